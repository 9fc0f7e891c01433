package train

import (
	"fmt"
	"io"
	"time"

	"github.com/gotransformer/transformer/progress"
)

// Logger writes each message twice: as a timestamped plain line to the
// run's train.log, and as an event to the display (a terminal bar, plain
// lines, JSON lines, or nothing).
type Logger struct {
	file  io.Writer
	disp  *progress.Display
	start time.Time
}

// NewLogger logs to disp (nil: nowhere) and to file (nil: nowhere).
func NewLogger(disp *progress.Display, file io.Writer) *Logger {
	if disp == nil {
		disp = progress.New(io.Discard, progress.Quiet)
	}
	if file == nil {
		file = io.Discard
	}
	return &Logger{file: file, disp: disp, start: time.Now()}
}

// Printf logs one plain message.
func (l *Logger) Printf(format string, a ...any) { l.Event("log", fmt.Sprintf(format, a...)) }

// Event logs text under an event name, with fields for JSON output.
func (l *Logger) Event(event, text string, fields ...progress.Field) {
	line := fmt.Sprintf("[%s] %s", progress.Clock(time.Since(l.start)), text)
	io.WriteString(l.file, line+"\n")
	if l.disp.Mode() == progress.JSON {
		l.disp.Message(event, text, fields...)
		return
	}
	l.disp.Message(event, line)
}

// Display is where the logger shows messages.
func (l *Logger) Display() *progress.Display { return l.disp }
