package train

import (
	"fmt"
	"io"
	"time"
)

// Logger writes timestamped plain lines to every writer it holds (stdout
// and the run's train.log).
type Logger struct {
	out   []io.Writer
	start time.Time
}

// NewLogger logs to the given writers.
func NewLogger(w ...io.Writer) *Logger { return &Logger{out: w, start: time.Now()} }

// Printf writes one line.
func (l *Logger) Printf(format string, a ...any) {
	line := fmt.Sprintf("[%s] %s\n", fmtDuration(time.Since(l.start)), fmt.Sprintf(format, a...))
	for _, w := range l.out {
		io.WriteString(w, line)
	}
}

func fmtDuration(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}
