package logging

// Sink consumes events. Write gets every event an Emitter emits, in order; Close releases
// what the sink holds. A Sink used by several goroutines must be safe for concurrent use
// (JSONLWriter is).
type Sink interface {
	Write(event *Event) error
	Close() error
}
