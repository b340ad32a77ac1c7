package auth

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// MaxUsersFileSize bounds the users file read into memory.
const MaxUsersFileSize = 16 << 20

// maxNameLen matches the longest authcid the SASL exchange accepts: a
// longer name could never log in.
const maxNameLen = MaxFieldLen

// ErrUsersUnavailable is wrapped by Users.Authenticate when the users
// file, changed since it was loaded, can no longer be read or parsed.
// The session answers 454 4.7.0 (temporary) and does not count the
// attempt as the client's failure.
var ErrUsersUnavailable = errors.New("auth: users file unavailable")

// SyntaxError is a bad line of a users file. It names the file and the
// line and never quotes the hash.
type SyntaxError struct {
	File   string
	Line   int
	Reason string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("auth: users file %s line %d: %s", e.File, e.Line, e.Reason)
}

// Users is a table of users and password hashes read from a file of
// "name:hash" lines. It is safe for concurrent use. Every
// Authenticate (and Verify) stats the file and reloads it when it
// changed (another inode, size or modification time), so an operator
// edits users without a restart; replace the file by rename so that no
// reader sees it half written. A reload that fails does not fall back
// on the old table: until the file is good again every attempt fails
// with ErrUsersUnavailable, so a user removed from a file with a typo
// elsewhere cannot still log in.
type Users struct {
	path  string
	mu    sync.Mutex // serialises reloads
	state atomic.Pointer[usersState]
}

type usersState struct {
	info  os.FileInfo // nil when the file could not be read
	err   error       // why the file is unusable; nil when table is valid
	table map[string]verifier
	dummy verifier // verified for unknown names
}

// LoadUsers reads the users file at path. Its format: one "name:hash"
// per line, split at the first colon (a name cannot hold one), spaces
// around name and hash ignored; blank lines and lines whose first
// non-blank character is "#" are ignored. hash is bcrypt ($2a$, $2b$,
// $2y$) or argon2id in PHC form ($argon2id$v=19$m=...,t=...,p=...$salt$hash,
// salt and hash in unpadded standard base64). Names are compared
// byte for byte, case-sensitively, with no SASLprep: "Alice" and
// "alice" are two users. A name given twice is an error.
func LoadUsers(path string) (*Users, error) {
	u := &Users{path: path}
	st := u.load()
	if st.err != nil {
		return nil, st.err
	}
	u.state.Store(st)
	return u, nil
}

// Path is the file the table is read from.
func (u *Users) Path() string { return u.path }

// Len is the number of users in the table as last loaded (0 while the
// file is unusable).
func (u *Users) Len() int { return len(u.current().table) }

// Verify reports whether password is name's password. It is
// Authenticate with every error read as "no".
func (u *Users) Verify(name, password string) bool {
	ok, _ := u.Authenticate(name, password)
	return ok
}

// Authenticate reports whether password is name's password, reloading
// the file first if it changed. The comparison is the hash's own
// constant-time one, and an unknown name costs one verification too
// (against the first user's hash, its result thrown away), so that the
// time taken does not tell which names exist; a file mixing schemes or
// costs still tells which class a name is in, so keep to one. The error
// wraps ErrUsersUnavailable when the file cannot be used at present.
func (u *Users) Authenticate(name, password string) (bool, error) {
	st := u.current()
	if st.err != nil {
		return false, fmt.Errorf("%w: %w", ErrUsersUnavailable, st.err)
	}
	v, ok := st.table[name]
	if !ok {
		st.dummy.verify([]byte(password))
		return false, nil
	}
	return v.verify([]byte(password)), nil
}

// current returns the loaded state, reloading when the file changed.
func (u *Users) current() *usersState {
	st := u.state.Load()
	if sameFile(st.info, stat(u.path)) {
		return st
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if st = u.state.Load(); sameFile(st.info, stat(u.path)) {
		return st
	}
	st = u.load()
	u.state.Store(st)
	return st
}

func stat(path string) os.FileInfo {
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	return fi
}

func sameFile(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == b
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// load reads and parses the file. The stat is taken before the read,
// so a change racing the read is seen as a change by the next call.
func (u *Users) load() *usersState {
	st := &usersState{info: stat(u.path)}
	f, err := os.Open(u.path)
	if err != nil {
		st.err = fmt.Errorf("auth: users file: %w", err)
		return st
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxUsersFileSize+1))
	if err != nil {
		st.err = fmt.Errorf("auth: users file: %w", err)
		return st
	}
	if len(data) > MaxUsersFileSize {
		st.err = fmt.Errorf("auth: users file %s: larger than %d bytes", u.path, MaxUsersFileSize)
		return st
	}
	table, first, err := parseUsers(u.path, data)
	if err != nil {
		st.err = err
		return st
	}
	st.table = table
	st.dummy = first
	if st.dummy == nil {
		st.dummy = emptyDummy()
	}
	return st
}

// parseUsers parses a users file; first is the first user's hash.
func parseUsers(file string, data []byte) (table map[string]verifier, first verifier, err error) {
	table = make(map[string]verifier)
	lineOf := make(map[string]int)
	for n := 1; len(data) > 0; n++ {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte("\n"))
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' {
			continue
		}
		name, hash, ok := strings.Cut(s, ":")
		if !ok {
			return nil, nil, &SyntaxError{file, n, `want "name:hash"`}
		}
		name, hash = strings.TrimSpace(name), strings.TrimSpace(hash)
		if reason := badName(name); reason != "" {
			return nil, nil, &SyntaxError{file, n, reason}
		}
		if prev, dup := lineOf[name]; dup {
			return nil, nil, &SyntaxError{file, n, fmt.Sprintf("user %q already given on line %d", name, prev)}
		}
		v, err := parseHash(hash)
		if err != nil {
			return nil, nil, &SyntaxError{file, n, fmt.Sprintf("user %q: %v", name, err)}
		}
		table[name], lineOf[name] = v, n
		if first == nil {
			first = v
		}
	}
	return table, first, nil
}

func badName(name string) string {
	switch {
	case name == "":
		return "empty user name"
	case len(name) > maxNameLen:
		return fmt.Sprintf("user name longer than %d bytes", maxNameLen)
	case !utf8.ValidString(name):
		return "user name is not UTF-8"
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "control character in user name"
		}
	}
	return ""
}

// emptyDummy stands in when the file names nobody: a bcrypt hash of a
// random password at the default cost, made once.
var emptyDummy = sync.OnceValue(func() verifier {
	pw := make([]byte, 32)
	_, _ = rand.Read(pw)
	h, err := HashPassword(string(pw[:]), KindBcrypt)
	if err != nil {
		// Cannot happen for a 32-byte password; a nil-safe fallback
		// keeps Authenticate from panicking all the same.
		return bcryptHash(nil)
	}
	return bcryptHash(h)
})
