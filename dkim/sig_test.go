package dkim

import (
	"strings"
	"testing"
)

func TestParseTagList(t *testing.T) {
	for _, c := range []struct {
		in   string
		tags string // name=value|..., or "ERR"
	}{
		{"", ""},
		{" ", ""},
		{"v=1", "v=1"},
		{"v=1;", "v=1"},
		{"v=1; ", "v=1"},
		{" v = 1 ;\r\n\ta=x", "v=1|a=x"},
		{"p=", "p="},
		{"b=abc \r\n def ; c=1", "b=abc \r\n def|c=1"},
		{"n=a b\tc", "n=a b\tc"},
		{"z=\xc3\xa9", "z=\xc3\xa9"},
		{"a_1=x", "a_1=x"},
		{"v=1;;a=x", "ERR"},
		{";v=1", "ERR"},
		{"v=1; v=1", "ERR"},
		{"V=1; v=1", "V=1|v=1"},
		{"1v=1", "ERR"},
		{"_v=1", "ERR"},
		{"v", "ERR"},
		{"v 1", "ERR"},
		{"v=a\r\nb", "ERR"},
		{"v=a\r\n", "ERR"},
		{"v=a\nb", "ERR"},
		{"v=a\rb", "ERR"},
		{"v=a\x00", "ERR"},
		{"v=a\x7f", "ERR"},
		{"\r\n v=1", "v=1"},
		{"\r\nv=1", "ERR"},
	} {
		tags, err := parseTagList(c.in)
		got := "ERR"
		if err == nil {
			var parts []string
			for _, tg := range tags {
				parts = append(parts, tg.name+"="+tg.value)
				if tg.start > tg.end || tg.end > len(c.in) || !strings.Contains(c.in[tg.start:tg.end], tg.value) {
					t.Errorf("%q: tag %q span %d:%d", c.in, tg.name, tg.start, tg.end)
				}
			}
			got = strings.Join(parts, "|")
		}
		if got != c.tags {
			t.Errorf("%q: got %q (%v), want %q", c.in, got, err, c.tags)
		}
	}
}

const validSig = "v=1; a=rsa-sha256; c=relaxed/simple; d=example.com; s=sel;\r\n\th=From:To : Subject; bh=AAAA; b=AAAA"

func TestParseSignature(t *testing.T) {
	for _, c := range []struct {
		name, in string
		alg      string // "" when dropped
		reason   Reason
	}{
		{"valid", validSig, "rsa-sha256", ""},
		{"valid ed25519", strings.Replace(validSig, "rsa-sha256", "ed25519-sha256", 1), "ed25519-sha256", ""},
		{"algorithm case", strings.Replace(validSig, "rsa-sha256", "RSA-SHA256", 1), "rsa-sha256", ""},
		{"unknown hash dropped", strings.Replace(validSig, "rsa-sha256", "rsa-sha384", 1), "", ReasonSignatureTag},
		{"unknown key type dropped", strings.Replace(validSig, "rsa-sha256", "dsa-sha256", 1), "", ReasonSignatureTag},
		{"no a= dropped", strings.Replace(validSig, "a=rsa-sha256;", "", 1), "", ReasonSignatureTag},
		{"no v=", strings.Replace(validSig, "v=1; ", "", 1), "rsa-sha256", ReasonSignatureTag},
		{"v=2", strings.Replace(validSig, "v=1", "v=2", 1), "rsa-sha256", ReasonVersion},
		{"V=1 is another tag", strings.Replace(validSig, "v=1", "V=1", 1), "rsa-sha256", ReasonSignatureTag},
		{"no b=", strings.Replace(validSig, "; b=AAAA", "", 1), "rsa-sha256", ReasonSignatureTag},
		{"empty b=", strings.Replace(validSig, "b=AAAA", "b=", 1), "rsa-sha256", ReasonSignatureTag},
		{"bad base64 b=", strings.Replace(validSig, "b=AAAA", "b=AA*A", 1), "rsa-sha256", ReasonSignatureTag},
		{"folded b=", strings.Replace(validSig, "b=AAAA", "b=AA\r\n AA", 1), "rsa-sha256", ""},
		{"no bh=", strings.Replace(validSig, "bh=AAAA; ", "", 1), "rsa-sha256", ReasonSignatureTag},
		{"no d=", strings.Replace(validSig, "d=example.com; ", "", 1), "rsa-sha256", ReasonSignatureTag},
		{"single-label d=", strings.Replace(validSig, "d=example.com", "d=com", 1), "rsa-sha256", ReasonSignatureTag},
		{"d= with space", strings.Replace(validSig, "d=example.com", "d=exa mple.com", 1), "rsa-sha256", ReasonSignatureTag},
		{"d= with hyphen at end of label", strings.Replace(validSig, "d=example.com", "d=example-.com", 1), "rsa-sha256", ReasonSignatureTag},
		{"s= with dot", strings.Replace(validSig, "s=sel", "s=a.b", 1), "rsa-sha256", ""},
		{"s= with slash", strings.Replace(validSig, "s=sel", "s=a/b", 1), "rsa-sha256", ReasonSignatureTag},
		{"no h=", strings.Replace(validSig, "\r\n\th=From:To : Subject;", "", 1), "rsa-sha256", ReasonSignatureTag},
		{"h= without From", strings.Replace(validSig, "From:", "", 1), "rsa-sha256", ReasonSignatureTag},
		{"h= empty element", strings.Replace(validSig, "From:", "From::", 1), "rsa-sha256", ReasonSignatureTag},
		{"c= unknown", strings.Replace(validSig, "relaxed/simple", "relaxed/nowsp", 1), "rsa-sha256", ReasonSignatureTag},
		{"c= header only", strings.Replace(validSig, "relaxed/simple", "relaxed", 1), "rsa-sha256", ""},
		{"i= ok", validSig + "; i=user@sub.Example.COM", "rsa-sha256", ""},
		{"i= outside", validSig + "; i=user@example.com.evil", "rsa-sha256", ReasonSignatureTag},
		{"i= suffix trick", validSig + "; i=user@badexample.com", "rsa-sha256", ReasonSignatureTag},
		{"i= without @", validSig + "; i=example.com", "rsa-sha256", ReasonSignatureTag},
		{"l= ok", validSig + "; l=100", "rsa-sha256", ""},
		{"l= huge", validSig + "; l=99999999999999999999999999", "rsa-sha256", ""},
		{"l= negative", validSig + "; l=-1", "rsa-sha256", ReasonSignatureTag},
		{"q= dns/txt", validSig + "; q=dns/txt", "rsa-sha256", ""},
		{"q= other", validSig + "; q=http/well-known", "rsa-sha256", ReasonSignatureTag},
		{"t= x=", validSig + "; t=100; x=200", "rsa-sha256", ""},
		{"x= before t=", validSig + "; t=200; x=100", "rsa-sha256", ReasonSignatureTag},
		{"t= 13 digits", validSig + "; t=1234567890123", "rsa-sha256", ReasonSignatureTag},
		{"duplicate tag", validSig + "; d=example.org", "rsa-sha256", ReasonSignatureTag},
		{"unknown tag ignored", validSig + "; zz=whatever", "rsa-sha256", ""},
		{"garbage", "\x00\x01;;==", "", ReasonSignatureTag},
	} {
		s := parseSignature(c.in)
		alg := ""
		if s.keyType != "" {
			alg = s.algorithm()
		}
		reason := ReasonNone
		if s.err != nil {
			reason = s.err.Reason
		}
		if alg != c.alg || (alg != "" && reason != c.reason) {
			t.Errorf("%s: got %q %q (%v), want %q %q", c.name, alg, reason, s.err, c.alg, c.reason)
		}
	}
	s := parseSignature(validSig)
	if s.domain != "example.com" || s.selector != "sel" || !s.headerRelaxed || s.bodyRelaxed ||
		strings.Join(s.headers, ",") != "From,To,Subject" || s.bodyLen != -1 || validSig[s.bStart:s.bEnd] != "AAAA" {
		t.Errorf("%+v", s)
	}
}

func TestParseKey(t *testing.T) {
	k := testKeys()
	rsaRec := keyRecord(t, k.rsa2048.Public(), "")
	edRec := keyRecord(t, k.ed.Public(), "")
	for _, c := range []struct {
		name, in string
		reason   Reason
	}{
		{"rsa", rsaRec, ""},
		{"rsa without v= and k=", strings.Replace(rsaRec, "v=DKIM1; k=rsa; ", "", 1), ""},
		{"ed25519", edRec, ""},
		{"folded p=", strings.Replace(rsaRec, "p=MII", "p=MI I", 1), ""},
		{"v= not first", strings.Replace(rsaRec, "v=DKIM1; k=rsa; ", "k=rsa; v=DKIM1; ", 1), ReasonPubkeyDNSSyntax},
		{"v=DKIM2", strings.Replace(rsaRec, "DKIM1", "DKIM2", 1), ReasonPubkeyDNSSyntax},
		{"k=dsa", strings.Replace(rsaRec, "k=rsa", "k=dsa", 1), ReasonPubkeyDNSSyntax},
		{"no p=", "v=DKIM1; k=rsa", ReasonPubkeyDNSSyntax},
		{"revoked", "v=DKIM1; p=", ReasonPubkeyDNSSyntax},
		{"revoked with spaces", "v=DKIM1; p= ; n=gone", ReasonPubkeyDNSSyntax},
		{"bad base64", "v=DKIM1; p=!!!!", ReasonPubkeyDNSSyntax},
		{"malformed", "v=DKIM1;; p=AAAA", ReasonPubkeyDNSSyntax},
		{"rsa p= not DER", "v=DKIM1; p=AAAA", ReasonPubkeyDERSyntax},
		{"k=rsa with an ed25519 key", strings.Replace(edRec, "k=ed25519", "k=rsa", 1), ReasonPubkeyDERSyntax},
		{"k=ed25519 with an rsa key", strings.Replace(rsaRec, "k=rsa", "k=ed25519", 1), ReasonPubkeyDERSyntax},
	} {
		_, err := parseKey(c.in)
		reason := ReasonNone
		if err != nil {
			reason = err.Reason
		}
		if reason != c.reason {
			t.Errorf("%s: got %q (%v), want %q", c.name, reason, err, c.reason)
		}
	}
	key, _ := parseKey("v=DKIM1; k=ed25519; h=sha256:foo; s=email:*; t=y:s; p=" + edRec[strings.Index(edRec, "p=")+2:])
	if key == nil || key.keyType != "ed25519" || key.bits != 256 || strings.Join(key.hashes, ",") != "sha256,foo" || !key.email || !key.strict {
		t.Errorf("%+v", key)
	}
	for txt, want := range map[string]bool{
		"v=DKIM1; p=x": true, "p=x": true, " v = DKIM1 ;p=x": true, "v=spf1 -all": false, "v=DMARC1; p=none": false, "vx=1": true,
	} {
		if got := isKeyCandidate(txt); got != want {
			t.Errorf("isKeyCandidate(%q) = %v", txt, got)
		}
	}
}
