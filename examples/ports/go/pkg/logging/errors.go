package logging

import "errors"

// Sentinel errors of the logging package. Every error it returns wraps one of them, so a
// caller tells the cases apart with errors.Is.
var (
	// ErrCreateLogFile: the event log could not be opened for appending (or created).
	ErrCreateLogFile = errors.New("logging: create log file")
	// ErrWriteEvent: an event could not be written (the writer is closed, or the write
	// failed).
	ErrWriteEvent = errors.New("logging: write event")
	// ErrMarshalData: an event's data could not be encoded as JSON (a NaN, a channel...).
	ErrMarshalData = errors.New("logging: marshal data")
	// ErrCloseWriter: the writer could not be closed, or was closed already.
	ErrCloseWriter = errors.New("logging: close writer")
	// ErrEmptyMetadata: an emitter needs a run id and an agent system.
	ErrEmptyMetadata = errors.New("logging: empty metadata")
)
