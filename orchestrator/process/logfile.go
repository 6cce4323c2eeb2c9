package process

import (
	"bytes"
	"os"
	"sync"
)

// maxLog is the size at which a service's log is rotated: NAME.log becomes
// NAME.log.1 (replacing the one before) and a new NAME.log is started.
const maxLog = 10 << 20

// logFile is a service's log, written by the supervisor alone: the
// service's output comes through a pipe (logPipe) and the supervisor's own
// lines through logf, so that rotation happens between two writes and no
// line is lost, in a fixed amount of memory.
type logFile struct {
	mu   sync.Mutex
	path string
	f    *os.File
	size int64
	max  int64
	// lineStart: the last byte written ended a line (or nothing was).
	lineStart bool
}

func openLog(path string, max int64) (*logFile, error) {
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &logFile{path: path, f: f, size: st.Size(), max: max, lineStart: true}, nil
}

// Write appends p. Past the limit, the log is rotated at the end of a line
// (the line under way is finished in the old file, up to maxLine more
// bytes), so that no line is split between the two. A rotation that fails
// keeps writing to the current file.
func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	written := 0
	if l.size+int64(len(p)) > l.max {
		cut := 0 // at a line's start: rotate before p
		if !l.lineStart {
			cut = bytes.IndexByte(p, '\n') + 1
			if cut == 0 && l.size < l.max+maxLine {
				cut = -1 // the line goes on: not yet
			}
		}
		if cut >= 0 {
			n, err := l.write(p[:cut])
			written += n
			if err != nil {
				return written, err
			}
			l.rotate()
			p = p[cut:]
		}
	}
	n, err := l.write(p)
	return written + n, err
}

// maxLine is how far a line under way may run past the limit before the
// log is rotated in its middle.
const maxLine = 64 << 10

func (l *logFile) write(p []byte) (int, error) {
	n, err := l.f.Write(p)
	l.size += int64(n)
	if n > 0 {
		l.lineStart = p[n-1] == '\n'
	}
	return n, err
}

// rotate renames the log to .1 (a rename replaces a link there, never
// writes through it) and opens a new one (refusing a link in its place).
func (l *logFile) rotate() {
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		return
	}
	f, err := openAppend(l.path)
	if err != nil {
		return // goes on in the renamed file
	}
	l.f.Close()
	l.f, l.size = f, 0
}

func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// logPipe is the write end the service's output goes to, and copies what
// arrives into l until every writer (the service and anything it left
// behind) has closed it; done closes then. A write to l that fails (a full
// disk) loses those bytes, never the service.
func logPipe(l *logFile) (w *os.File, done <-chan struct{}, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer r.Close()
		// Read on whatever happens to the log (a full disk): a pipe nobody
		// reads would stop the service at its next write.
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				_, _ = l.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	return w, finished, nil
}
