// Package proxyproto reads and writes HAProxy's PROXY protocol headers
// (versions 1 and 2) and wraps a net.Listener the way Exim's inbound
// proxy support does (hosts_proxy, proxy_protocol_timeout).
//
// # Reading headers
//
// ReadHeader (or Parser.Read, which reuses a Header and does not
// allocate) reads exactly one header and never a byte more, so a TLS
// handshake or SMTP command may follow at once: a v1 line is read one or
// two bytes at a time up to its CRLF, a v2 header as its 16-byte fixed
// part and then exactly the length it announces. The rules are the
// specification's, strictly:
//
//   - v1: at most 107 bytes with CRLF; "PROXY", one space, TCP4, TCP6 or
//     UNKNOWN; then exactly four fields separated by single spaces; the
//     addresses must match the family (no IPv4 under TCP6 or vice
//     versa, no zones, no leading zeros); ports 0-65535 without leading
//     zeros; a bare LF, a CR without LF or a trailing field is an error.
//     UNKNOWN ignores the rest of the line and keeps the real endpoints.
//   - v2: version 2, command LOCAL or PROXY, one of the defined
//     family/transport bytes, and a length that holds the address block
//     (for PROXY) and is at most Parser.MaxV2Length (DefaultMaxV2Length,
//     2048). TCP, UDP and UNIX addresses are parsed; PROXY with AF_UNSPEC
//     is accepted and, like LOCAL, keeps the real endpoints. TLVs after
//     the addresses must be whole and well formed (SSL sub-TLVs too,
//     UNIQUE_ID at most 128 bytes); a CRC32C TLV is verified and a
//     mismatch is an error (ErrCRC32C). For LOCAL the protocol block is
//     discarded: malformed TLVs are dropped rather than rejected.
//
// Input that ends early gives an error matching ErrIncomplete; a wrong
// signature ErrNoHeader; a line or length over the cap ErrTooLong; other
// syntax errors are *SyntaxError. Header has typed accessors for the
// TLVs: ALPN, Authority (the client's SNI), CRC32C, UniqueID, SSL
// (client flags, verify result, version, CN, cipher, signature and key
// algorithms) and NetNS.
//
// Header.Format and Header.WriteTo produce headers for the sending
// side; a CRC32C TLV in the header is filled in with the checksum.
//
// # Listener and Exim names
//
// Listener wraps a net.Listener; Config.Required is Exim's hosts_proxy
// and Config.Timeout its proxy_protocol_timeout (default 3s, for the
// whole header read). Accept returns immediately; the header is read by the
// goroutine that serves the connection, on its first Read, RemoteAddr
// or Handshake/Proxy call, so silent clients cannot hold up Accept.
// Hosts in neither Required nor Optional get no PROXY processing: as in
// Exim, a header they send is not trusted and stays in the stream.
// NewListener refuses (ErrConfig) a Config with both lists empty, the
// zero Config included, instead of silently doing no PROXY processing.
//
// Conn.Proxy returns an Info whose fields are Exim's variables:
//
//	$proxy_session           Info.ProxySession
//	$proxy_local_address     Info.LocalAddress   (the proxy, as we see it)
//	$proxy_local_port        Info.LocalPort
//	$proxy_external_address  Info.ExternalAddress (header destination)
//	$proxy_external_port     Info.ExternalPort
//	$sender_host_address     Info.Client.Addr()  (header source; also Conn.RemoteAddr)
//	$sender_host_port        Info.Client.Port()
//
// When a required negotiation fails (bad header, timeout, read error),
// Exim keeps the session but answers every command except QUIT with
// "503 Command refused, required Proxy negotiation failed" (RefusedReply).
// Here Info.Failed and Info.Reason say so, Conn.Read returns a
// *NegotiationError and Conn.RemoteAddr a FailedAddr, so the proxy's
// address is never taken for the client's; RefuseCommands (or ReplyFor,
// for an SMTP layer with its own loop) on Conn.NetConn implements the
// QUIT-only mode.
//
// # Differences from Exim
//
// Exim accepts any v1 address for either family, ports outside 0-65535
// and lines up to 232 bytes, fails v2 UDP, UNIX and PROXY/UNSPEC
// headers, caps v2 headers at 232 bytes, ignores TLVs, and cannot read a
// v2 header that arrives in pieces shorter than 14 bytes. This package
// follows the specification on all of these; Conn fails PROXY headers
// with a UDP or UNIX transport (they cannot describe a TCP session) but
// accepts PROXY/UNSPEC with the real endpoints. Info.ProxySession is
// also true for an Optional host (no Exim equivalent) that sent a header.
// Exim leaves $sender_host_address partially updated after a failed v1
// parse; Info.Client is then zero.
package proxyproto
