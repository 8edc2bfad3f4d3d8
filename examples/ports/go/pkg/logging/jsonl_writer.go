package logging

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
)

// JSONLWriter is a Sink that appends one JSON object per line to a file: unbuffered (each
// event is one write of one whole line, made by a json.Encoder straight to the file),
// safe for concurrent use, synced on Close.
type JSONLWriter struct {
	mu     sync.Mutex
	file   *os.File
	enc    *json.Encoder
	closed bool
}

// NewJSONLWriter opens path for appending, creating it (0644) when missing. Parent
// directories are not created. The error wraps ErrCreateLogFile.
func NewJSONLWriter(path string) (*JSONLWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCreateLogFile, err)
	}
	return &JSONLWriter{file: f, enc: json.NewEncoder(f)}, nil
}

// Write appends event as one line. The error wraps ErrWriteEvent.
func (w *JSONLWriter) Write(event *Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("%w: %v", ErrWriteEvent, os.ErrClosed)
	}
	// json.Encoder builds the whole line, then makes one Write call.
	if err := w.enc.Encode(event); err != nil {
		return fmt.Errorf("%w: %v", ErrWriteEvent, err)
	}
	return nil
}

// Close syncs the file (a sync error is ignored, as the seed's writer does) and closes it.
// A second Close returns an error wrapping ErrCloseWriter.
func (w *JSONLWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("%w: %v", ErrCloseWriter, os.ErrClosed)
	}
	w.closed = true
	_ = w.file.Sync()
	if err := w.file.Close(); err != nil {
		return fmt.Errorf("%w: %v", ErrCloseWriter, err)
	}
	return nil
}
