package auth

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf8"
)

// Mechanism names, as advertised and as written in
// Authentication-Results.
const (
	PLAIN = "PLAIN"
	LOGIN = "LOGIN"
)

// Mechanisms is the EHLO keyword's argument: "250-AUTH " + Mechanisms.
const Mechanisms = PLAIN + " " + LOGIN

// MaxFieldLen bounds each decoded field (authzid, authcid, password).
// RFC 4616 asks servers to accept at least 255 octets of each.
const MaxFieldLen = 1024

// Errors an exchange ends with. doc.go lists the reply each maps to.
var (
	// ErrUnsupportedMechanism: AUTH named a mechanism other than PLAIN
	// or LOGIN (504 5.5.4).
	ErrUnsupportedMechanism = errors.New("auth: unrecognized authentication mechanism")
	// ErrCancelled: the client answered a challenge with "*" (501 5.7.0).
	ErrCancelled = errors.New("auth: exchange cancelled by the client")
	// ErrMalformed: a response that is not strict base64, or whose
	// content the mechanism cannot use (501 5.5.2).
	ErrMalformed = errors.New("auth: malformed response")
	// ErrTooLong: a response over the size limits (500 5.5.6).
	ErrTooLong = errors.New("auth: response too long")
	// ErrAuthzid: PLAIN asked to act as another identity (proxy
	// authorization), which is not offered (535 5.7.8).
	ErrAuthzid = errors.New("auth: authorization identity differs from authentication identity")
	// ErrDone: Next called on a finished exchange (a session bug).
	ErrDone = errors.New("auth: exchange already finished")
)

// Base64 challenges of LOGIN (draft-murchison-sasl-login): "Username:"
// and "Password:".
const (
	loginUserChallenge = "VXNlcm5hbWU6"
	loginPassChallenge = "UGFzc3dvcmQ6"
)

var b64std = base64.StdEncoding.Strict()

// Credentials are what a finished exchange yields for Users.Authenticate.
type Credentials struct {
	Mechanism string // PLAIN or LOGIN
	Authzid   string // PLAIN's authorization identity: "" or equal to Authcid
	Authcid   string // the user name
	Password  string
}

// Exchange is one AUTH command's SASL exchange, driven by the session:
//
//	ex, err := auth.Start(mech, initial, hasInitial)
//	for err == nil && !ex.Done() {
//		reply("334 " + ex.Challenge())
//		_, _, err = ex.Next(readLine())
//	}
//
// then, with err nil, ex.Credentials(). It is not safe for concurrent
// use (one session drives it).
type Exchange struct {
	mech      string
	challenge string
	done      bool
	ended     bool // an error ended the exchange
	cred      Credentials
}

// Start begins an exchange for mech (case-insensitive, as Exim
// compares it). initial is the AUTH command's initial response and
// hasInitial whether there was one; "=" stands for an empty one (RFC
// 4954 §4). A PLAIN initial response finishes the exchange at once;
// LOGIN's is the user name (a common extension), so only the password
// is asked for. Errors are those of Next and ErrUnsupportedMechanism.
func Start(mech, initial string, hasInitial bool) (*Exchange, error) {
	ex := &Exchange{}
	switch {
	case strings.EqualFold(mech, PLAIN):
		ex.mech = PLAIN
	case strings.EqualFold(mech, LOGIN):
		ex.mech = LOGIN
		ex.challenge = loginUserChallenge
	default:
		return nil, ErrUnsupportedMechanism
	}
	ex.cred.Mechanism = ex.mech
	if !hasInitial {
		return ex, nil
	}
	var data []byte
	if initial != "=" {
		var err error
		if data, err = decode(initial, ex.maxDecoded()); err != nil {
			return nil, err
		}
	}
	if err := ex.step(data); err != nil {
		return nil, err
	}
	return ex, nil
}

// Done reports whether the exchange has finished successfully.
func (ex *Exchange) Done() bool { return ex.done }

// Challenge is the base64 text to send after "334 " while not Done;
// "" for PLAIN's empty challenge.
func (ex *Exchange) Challenge() string { return ex.challenge }

// Mechanism is PLAIN or LOGIN.
func (ex *Exchange) Mechanism() string { return ex.mech }

// Credentials are the decoded fields once Done (zero before).
func (ex *Exchange) Credentials() Credentials {
	if !ex.done {
		return Credentials{}
	}
	return ex.cred
}

// Next takes the client's line answering the challenge (without its
// CRLF) and returns the next challenge, or done once the exchange has
// finished. A non-nil error ends the exchange: the session replies and
// drops it.
func (ex *Exchange) Next(line string) (challenge string, done bool, err error) {
	if ex.done || ex.ended {
		return "", ex.done, ErrDone
	}
	if err := ex.next(line); err != nil {
		ex.ended = true
		return "", false, err
	}
	return ex.challenge, ex.done, nil
}

func (ex *Exchange) next(line string) error {
	if line == "*" {
		return ErrCancelled
	}
	data, err := decode(line, ex.maxDecoded())
	if err != nil {
		return err
	}
	return ex.step(data)
}

func (ex *Exchange) maxDecoded() int {
	if ex.mech == PLAIN {
		return 3*MaxFieldLen + 2
	}
	return MaxFieldLen
}

// decode is strict base64 with the length checked before decoding, so
// an oversize line costs no allocation. encoding/base64 skips CR and LF
// even when Strict; a response is one line, so they are refused here.
func decode(s string, max int) ([]byte, error) {
	if len(s) > b64std.EncodedLen(max) {
		return nil, ErrTooLong
	}
	if strings.ContainsAny(s, "\r\n") {
		return nil, ErrMalformed
	}
	b, err := b64std.DecodeString(s)
	if err != nil {
		return nil, ErrMalformed
	}
	return b, nil
}

// step feeds one decoded response to the mechanism.
func (ex *Exchange) step(data []byte) error {
	if ex.mech == PLAIN {
		return ex.plain(data)
	}
	if len(data) > MaxFieldLen {
		return ErrTooLong
	}
	if len(data) == 0 || bytes.IndexByte(data, 0) >= 0 {
		return ErrMalformed
	}
	if ex.challenge == loginUserChallenge {
		if !utf8.Valid(data) {
			return ErrMalformed
		}
		ex.cred.Authcid = string(data)
		ex.challenge = loginPassChallenge
		return nil
	}
	ex.cred.Password = string(data)
	ex.challenge, ex.done = "", true
	return nil
}

// plain parses RFC 4616's message: [authzid] NUL authcid NUL passwd,
// each UTF-8 without NUL, authcid and passwd not empty.
func (ex *Exchange) plain(data []byte) error {
	f := bytes.Split(data, []byte{0})
	if len(f) != 3 || len(f[1]) == 0 || len(f[2]) == 0 {
		return ErrMalformed
	}
	for _, x := range f {
		if len(x) > MaxFieldLen {
			return ErrTooLong
		}
		if !utf8.Valid(x) {
			return ErrMalformed
		}
	}
	if len(f[0]) > 0 && !bytes.Equal(f[0], f[1]) {
		return ErrAuthzid
	}
	ex.cred.Authzid, ex.cred.Authcid, ex.cred.Password = string(f[0]), string(f[1]), string(f[2])
	ex.challenge, ex.done = "", true
	return nil
}
