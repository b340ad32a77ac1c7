package auth

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseUsers(f *testing.F) {
	f.Add([]byte("# c\n\nalice:" + fastBcrypt(f, "pw") + "\nbob:" + fastArgon2id(f, "pw") + "\r\n"))
	f.Add([]byte("a:$2b$04$" + strings.Repeat("A", 53) + "\n"))
	f.Add([]byte("a:$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 22) + "\n"))
	f.Add([]byte("a:x\na:y\n"))
	f.Add([]byte(":\n\x00:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		table, first, err := parseUsers("users", data)
		lines := bytes.Count(data, []byte("\n")) + 1
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SyntaxError", err)
			}
			if se.Line < 1 || se.Line > lines || se.File != "users" {
				t.Fatalf("line %d of %d lines, file %q", se.Line, lines, se.File)
			}
			return
		}
		want := 0
		for _, l := range strings.Split(string(data), "\n") {
			if s := strings.TrimSpace(l); s != "" && s[0] != '#' {
				want++
			}
		}
		if len(table) != want {
			t.Fatalf("%d users from %d entry lines", len(table), want)
		}
		if (want > 0) != (first != nil) {
			t.Fatalf("first hash %v with %d users", first, want)
		}
		for name := range table {
			if name == "" || strings.ContainsAny(name, ":\n") || badName(name) != "" {
				t.Fatalf("bad name %q accepted", name)
			}
		}
	})
}

func FuzzParseHash(f *testing.F) {
	f.Add(fastBcrypt(f, "pw"))
	f.Add(fastArgon2id(f, "pw"))
	f.Add("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaA")
	f.Add("$2y$31$" + strings.Repeat(".", 53))
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseHash(s)
		if (v == nil) == (err == nil) {
			t.Fatalf("verifier %v with error %v", v, err)
		}
		// The messages are fixed texts with numbers: one that grows
		// with the input would be quoting it.
		if err != nil && len(err.Error()) > 120 {
			t.Fatalf("error of %d bytes, quoting the hash? %v", len(err.Error()), err)
		}
		// Verifying is not fuzzed: a valid hash may ask for cost 31 or
		// 1 GiB, which is the operator's choice, not a bug.
	})
}

// FuzzExchange drives an exchange with arbitrary lines: no panic, and a
// finished exchange yields exactly the fields the client's base64
// carried.
func FuzzExchange(f *testing.F) {
	b := base64.StdEncoding.EncodeToString
	f.Add("PLAIN", b([]byte("\x00alice\x00pw")), true, "")
	f.Add("PLAIN", "", false, b([]byte("alice\x00alice\x00pw")))
	f.Add("PLAIN", "=", true, "")
	f.Add("LOGIN", "", false, b([]byte("alice"))+"\n"+b([]byte("pw")))
	f.Add("login", b([]byte("alice")), true, "*")
	f.Add("LOGIN", "", false, "!!\n"+b([]byte("pw")))
	f.Add("XOAUTH2", "", false, "")
	f.Fuzz(func(t *testing.T, mech, initial string, hasInitial bool, script string) {
		ex, err := Start(mech, initial, hasInitial)
		if err != nil {
			if ex != nil {
				t.Fatal("an exchange with an error")
			}
			return
		}
		var sent []string // the base64 responses, in order
		if hasInitial {
			sent = append(sent, initial)
		}
		lines := strings.Split(script, "\n")
		for !ex.Done() && len(lines) > 0 {
			if _, _, err = ex.Next(lines[0]); err != nil {
				break
			}
			sent = append(sent, lines[0])
			lines = lines[1:]
		}
		if err != nil || !ex.Done() {
			if ex.Credentials() != (Credentials{}) {
				t.Fatal("credentials from an unfinished exchange")
			}
			return
		}
		dec := func(s string) string {
			if s == "=" {
				return ""
			}
			d, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				t.Fatalf("accepted %q, not base64: %v", s, err)
			}
			return string(d)
		}
		cred := ex.Credentials()
		switch cred.Mechanism {
		case PLAIN:
			if len(sent) != 1 {
				t.Fatalf("PLAIN took %d responses", len(sent))
			}
			f := strings.Split(dec(sent[0]), "\x00")
			if len(f) != 3 || f[0] != cred.Authzid || f[1] != cred.Authcid || f[2] != cred.Password {
				t.Fatalf("fields %q, credentials %+v", f, cred)
			}
			if cred.Authzid != "" && cred.Authzid != cred.Authcid {
				t.Fatalf("proxy authorization accepted: %+v", cred)
			}
		case LOGIN:
			if len(sent) != 2 || dec(sent[0]) != cred.Authcid || dec(sent[1]) != cred.Password || cred.Authzid != "" {
				t.Fatalf("responses %q, credentials %+v", sent, cred)
			}
		default:
			t.Fatalf("mechanism %q", cred.Mechanism)
		}
		if cred.Authcid == "" || cred.Password == "" || !utf8.ValidString(cred.Authcid) ||
			len(cred.Authcid) > MaxFieldLen || len(cred.Password) > MaxFieldLen {
			t.Fatalf("unusable credentials accepted: %+v", cred)
		}
	})
}

// FuzzPlainFields builds PLAIN messages from arbitrary fields: the
// exchange succeeds exactly when RFC 4616 and our rules allow the
// fields, and then returns them unchanged.
func FuzzPlainFields(f *testing.F) {
	f.Add("", "alice", "pw")
	f.Add("alice", "alice", "pw")
	f.Add("bob", "alice", "pw")
	f.Add("", "", "pw")
	f.Add("", "a\x00b", "pw")
	f.Add("", "al\xffce", "pw")
	f.Fuzz(func(t *testing.T, authzid, authcid, passwd string) {
		msg := authzid + "\x00" + authcid + "\x00" + passwd
		ex, err := Start(PLAIN, base64.StdEncoding.EncodeToString([]byte(msg)), true)
		fieldOK := func(s string, empty bool) bool {
			return (empty || s != "") && !strings.Contains(s, "\x00") && utf8.ValidString(s) && len(s) <= MaxFieldLen
		}
		valid := fieldOK(authzid, true) && fieldOK(authcid, false) && fieldOK(passwd, false)
		switch {
		case valid && (authzid == "" || authzid == authcid):
			if err != nil {
				t.Fatalf("%q refused: %v", msg, err)
			}
			want := Credentials{Mechanism: PLAIN, Authzid: authzid, Authcid: authcid, Password: passwd}
			if got := ex.Credentials(); got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		case valid:
			if !errors.Is(err, ErrAuthzid) {
				t.Fatalf("%q: %v, want ErrAuthzid", msg, err)
			}
		default:
			if err == nil {
				t.Fatalf("%q accepted as %+v", msg, ex.Credentials())
			}
		}
	})
}
