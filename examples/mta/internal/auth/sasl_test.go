package auth

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func enc(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestMechanisms(t *testing.T) {
	assert.Equal(t, "PLAIN LOGIN", Mechanisms)
	for _, m := range strings.Fields(Mechanisms) {
		ex, err := Start(m, "", false)
		require.NoError(t, err, m)
		assert.Equal(t, m, ex.Mechanism())
	}
}

func TestPlainInitialResponse(t *testing.T) {
	ex, err := Start("PLAIN", enc("\x00alice\x00s3cret"), true)
	require.NoError(t, err)
	assert.True(t, ex.Done())
	assert.Equal(t, Credentials{Mechanism: PLAIN, Authcid: "alice", Password: "s3cret"}, ex.Credentials())

	// The mechanism name is case-insensitive; a password may hold any
	// UTF-8 but NUL, spaces included.
	ex, err = Start("plain", enc("\x00alice\x00 pass word é "), true)
	require.NoError(t, err)
	assert.Equal(t, " pass word é ", ex.Credentials().Password)
	assert.Equal(t, PLAIN, ex.Mechanism())

	_, _, err = ex.Next(enc("\x00x\x00y"))
	assert.ErrorIs(t, err, ErrDone)
}

func TestPlainEmptyChallenge(t *testing.T) {
	ex, err := Start("PLAIN", "", false)
	require.NoError(t, err)
	assert.False(t, ex.Done())
	assert.Equal(t, "", ex.Challenge(), `"334 " with nothing after it`)
	assert.Equal(t, Credentials{}, ex.Credentials(), "nothing before the end")

	ch, done, err := ex.Next(enc("alice\x00alice\x00pw"))
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, "", ch)
	assert.Equal(t, Credentials{Mechanism: PLAIN, Authzid: "alice", Authcid: "alice", Password: "pw"}, ex.Credentials())
}

func TestPlainEqualsIsEmpty(t *testing.T) {
	// "=" is an empty initial response, which PLAIN cannot use...
	_, err := Start("PLAIN", "=", true)
	assert.ErrorIs(t, err, ErrMalformed)
	// ...and "=" is not base64 in a later response.
	ex, err := Start("PLAIN", "", false)
	require.NoError(t, err)
	_, _, err = ex.Next("=")
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestPlainAuthzid(t *testing.T) {
	_, err := Start("PLAIN", enc("admin\x00alice\x00pw"), true)
	assert.ErrorIs(t, err, ErrAuthzid, "no proxy authorization")
	_, err = Start("PLAIN", enc("Alice\x00alice\x00pw"), true)
	assert.ErrorIs(t, err, ErrAuthzid, "compared exactly, as user names are")
	ex, err := Start("PLAIN", enc("alice\x00alice\x00pw"), true)
	require.NoError(t, err)
	assert.Equal(t, "alice", ex.Credentials().Authzid)
}

func TestPlainMalformed(t *testing.T) {
	for _, msg := range []string{
		"",                      // empty
		"alice\x00pw",           // one NUL
		"\x00\x00pw",            // empty authcid
		"\x00alice\x00",         // empty password
		"\x00alice\x00pw\x00",   // a NUL in the password
		"a\x00alice\x00pw\x00x", // four fields
		"\x00al\xffice\x00pw",   // not UTF-8
		"\x00alice\x00p\xc3",    // truncated UTF-8
		"\xfe\x00alice\x00pw",   // not UTF-8 authzid
	} {
		_, err := Start("PLAIN", enc(msg), true)
		assert.ErrorIs(t, err, ErrMalformed, "%q", msg)
	}
}

func TestLoginTwoSteps(t *testing.T) {
	ex, err := Start("LOGIN", "", false)
	require.NoError(t, err)
	u, err := base64.StdEncoding.DecodeString(ex.Challenge())
	require.NoError(t, err)
	assert.Equal(t, "Username:", string(u))

	ch, done, err := ex.Next(enc("alice"))
	require.NoError(t, err)
	assert.False(t, done)
	p, err := base64.StdEncoding.DecodeString(ch)
	require.NoError(t, err)
	assert.Equal(t, "Password:", string(p))
	assert.Equal(t, ch, ex.Challenge())
	assert.Equal(t, Credentials{}, ex.Credentials())

	_, done, err = ex.Next(enc("s3cret"))
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, Credentials{Mechanism: LOGIN, Authcid: "alice", Password: "s3cret"}, ex.Credentials())
}

func TestLoginInitialUsername(t *testing.T) {
	ex, err := Start("login", enc("alice"), true)
	require.NoError(t, err)
	assert.False(t, ex.Done())
	assert.Equal(t, loginPassChallenge, ex.Challenge())
	_, done, err := ex.Next(enc("pw"))
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, "alice", ex.Credentials().Authcid)

	_, err = Start("LOGIN", "=", true)
	assert.ErrorIs(t, err, ErrMalformed, "an empty user name")
}

func TestLoginMalformed(t *testing.T) {
	for _, step := range [][]string{
		{""},                        // empty user name
		{enc("a\x00b")},             // NUL
		{enc("al\xffice")},          // not UTF-8 user name
		{enc("alice"), ""},          // empty password
		{enc("alice"), enc("\x00")}, // NUL password
	} {
		ex, err := Start("LOGIN", "", false)
		require.NoError(t, err)
		for i, line := range step {
			_, _, err = ex.Next(line)
			if i < len(step)-1 {
				require.NoError(t, err)
			}
		}
		assert.ErrorIs(t, err, ErrMalformed, "%q", step)
	}
	// A LOGIN password need not be UTF-8 (old clients send Latin-1).
	ex, _ := Start("LOGIN", enc("alice"), true)
	_, done, err := ex.Next(enc("p\xe4ss"))
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, "p\xe4ss", ex.Credentials().Password)
}

func TestCancel(t *testing.T) {
	for _, mech := range []string{PLAIN, LOGIN} {
		ex, err := Start(mech, "", false)
		require.NoError(t, err)
		_, done, err := ex.Next("*")
		assert.ErrorIs(t, err, ErrCancelled, mech)
		assert.False(t, done)
		_, _, err = ex.Next(enc("\x00a\x00b"))
		assert.ErrorIs(t, err, ErrDone, "%s: an error ends the exchange", mech)
	}
	ex, err := Start(LOGIN, "", false)
	require.NoError(t, err)
	_, _, err = ex.Next(enc("alice"))
	require.NoError(t, err)
	_, _, err = ex.Next("*")
	assert.ErrorIs(t, err, ErrCancelled, "at the password prompt too")
	assert.Equal(t, Credentials{}, ex.Credentials())

	_, err = Start(PLAIN, "*", true)
	assert.ErrorIs(t, err, ErrMalformed, `"*" is not an initial response`)
}

func TestBadBase64(t *testing.T) {
	good := enc("\x00alice\x00pw")
	for _, s := range []string{
		good + "=",         // extra padding
		good[:len(good)-1], // truncated
		" " + good,         // leading space
		good + " ",         // trailing space
		"AGFs aWNlAHB3",    // inner space
		"AGFsaWNl\r\nAHB3",
		"!!!!",
		"AGFsaWNlAHB3-_==", // URL alphabet
		"AB==",             // non-zero trailing bits: not strict
	} {
		ex, err := Start(PLAIN, "", false)
		require.NoError(t, err)
		_, _, err = ex.Next(s)
		assert.ErrorIs(t, err, ErrMalformed, "%q", s)
		_, err = Start(PLAIN, s, true)
		assert.ErrorIs(t, err, ErrMalformed, "initial %q", s)
	}
}

func TestOversize(t *testing.T) {
	long := strings.Repeat("x", MaxFieldLen)
	// At the limits: accepted.
	ex, err := Start(PLAIN, enc(long+"\x00"+long+"\x00"+long), true)
	require.NoError(t, err)
	assert.Equal(t, long, ex.Credentials().Password)
	// RFC 4616's 255 octets fit easily.
	ex, err = Start(PLAIN, enc("\x00"+strings.Repeat("u", 255)+"\x00"+strings.Repeat("p", 255)), true)
	require.NoError(t, err)
	assert.Len(t, ex.Credentials().Authcid, 255)

	// One field over, the message still within the PLAIN total.
	_, err = Start(PLAIN, enc("\x00"+long+"x\x00pw"), true)
	assert.ErrorIs(t, err, ErrTooLong)
	// A line longer than any acceptable message, refused before decoding
	// (so not even valid base64 is needed to tell).
	_, err = Start(PLAIN, strings.Repeat("A", 5000), true)
	assert.ErrorIs(t, err, ErrTooLong)
	_, err = Start(PLAIN, strings.Repeat("!", 1<<20), true)
	assert.ErrorIs(t, err, ErrTooLong)

	ex, err = Start(LOGIN, "", false)
	require.NoError(t, err)
	_, _, err = ex.Next(enc(long + "x"))
	assert.ErrorIs(t, err, ErrTooLong)

	ex, err = Start(LOGIN, enc(long), true)
	require.NoError(t, err)
	_, done, err := ex.Next(enc(long))
	require.NoError(t, err)
	assert.True(t, done)
}

func TestUnsupportedMechanism(t *testing.T) {
	for _, m := range []string{"CRAM-MD5", "XOAUTH2", "", "PLAIN ", "PLAINX", "LOG"} {
		ex, err := Start(m, enc("\x00a\x00b"), true)
		assert.Nil(t, ex)
		assert.ErrorIs(t, err, ErrUnsupportedMechanism, "%q", m)
	}
}
