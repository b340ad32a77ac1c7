package smtp

// Reply codes of RFC 5321 §4.2.3, with those of the extensions this
// package knows (RFC 3207 STARTTLS, RFC 4954 AUTH, draft-hall-prdr-00).
const (
	ReplySystemStatus          = 211 // system status, or system help reply
	ReplyHelp                  = 214 // help message
	ReplyServiceReady          = 220 // <domain> Service ready; also "ready to start TLS"
	ReplyServiceClosing        = 221 // <domain> Service closing transmission channel
	ReplyAuthSucceeded         = 235 // authentication succeeded (RFC 4954)
	ReplyOK                    = 250 // requested mail action okay, completed
	ReplyUserNotLocalForward   = 251 // user not local; will forward
	ReplyCannotVerify          = 252 // cannot VRFY user, but will accept message
	ReplyAuthContinue          = 334 // server challenge (RFC 4954)
	ReplyPRDRStart             = 353 // PRDR content analysis beginning (draft-hall-prdr-00)
	ReplyStartMailInput        = 354 // start mail input; end with <CRLF>.<CRLF>
	ReplyServiceNotAvailable   = 421 // <domain> Service not available, closing transmission channel
	ReplyMailboxBusy           = 450 // mailbox unavailable (busy, or blocked for policy reasons)
	ReplyLocalError            = 451 // requested action aborted: local error in processing
	ReplyInsufficientStorage   = 452 // insufficient system storage
	ReplyTLSNotAvailable       = 454 // TLS not available, or temporary authentication failure
	ReplyParamsNotAccommodated = 455 // server unable to accommodate parameters
	ReplySyntaxError           = 500 // syntax error, command unrecognized
	ReplyParamSyntaxError      = 501 // syntax error in parameters or arguments
	ReplyNotImplemented        = 502 // command not implemented
	ReplyBadSequence           = 503 // bad sequence of commands
	ReplyParamNotImplemented   = 504 // command parameter not implemented
	ReplyAuthRequired          = 530 // authentication required (RFC 4954)
	ReplyAuthFailed            = 535 // authentication credentials invalid (RFC 4954)
	ReplyMailboxUnavailable    = 550 // mailbox unavailable (not found, no access, policy)
	ReplyUserNotLocal          = 551 // user not local; please try <forward-path>
	ReplyExceededStorage       = 552 // exceeded storage allocation
	ReplyMailboxNameNotAllowed = 553 // mailbox name not allowed
	ReplyTransactionFailed     = 554 // transaction failed (or no SMTP service here)
	ReplyParamsNotRecognized   = 555 // MAIL FROM/RCPT TO parameters not recognized or not implemented
)
