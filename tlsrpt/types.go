package tlsrpt

import "net/netip"

// PolicyType is the policy-type of RFC 8460 §4.3: which kind of policy
// the sender applied to the policy domain.
type PolicyType string

// The policy types of RFC 8460 §4.3.
const (
	PolicySTS  PolicyType = "sts"             // an MTA-STS policy (RFC 8461)
	PolicyTLSA PolicyType = "tlsa"            // DANE TLSA records (RFC 7672)
	PolicyNone PolicyType = "no-policy-found" // neither was found: opportunistic TLS
)

// ResultType is the result-type of a failed session (RFC 8460 §4.3,
// the IANA "STARTTLS Validation Result Types" registry).
type ResultType string

// The result types of RFC 8460 §4.3. Routing and negotiation failures
// come first, then DANE, then MTA-STS; ResultValidationFailure is the
// catch-all for a failure none of the others names.
const (
	ResultSTARTTLSNotSupported    ResultType = "starttls-not-supported"
	ResultCertificateHostMismatch ResultType = "certificate-host-mismatch"
	ResultCertificateExpired      ResultType = "certificate-expired"
	ResultCertificateNotTrusted   ResultType = "certificate-not-trusted"
	ResultValidationFailure       ResultType = "validation-failure"
	ResultTLSAInvalid             ResultType = "tlsa-invalid"
	ResultDNSSECInvalid           ResultType = "dnssec-invalid"
	ResultDANERequired            ResultType = "dane-required"
	ResultSTSPolicyFetchError     ResultType = "sts-policy-fetch-error"
	ResultSTSPolicyInvalid        ResultType = "sts-policy-invalid"
	ResultSTSWebPKIInvalid        ResultType = "sts-webpki-invalid"
)

// Policy is what was applied to one policy domain (the recipient domain
// for MTA-STS and no-policy-found, the MX host for DANE, RFC 8460 §4.1).
// It is both what the delivery code records and the "policy" object of
// a report, so its JSON names are those of §4.4.
type Policy struct {
	Type PolicyType `json:"policy-type"`
	// Domain is the policy-domain. The Recorder compares it
	// case-insensitively and without a trailing dot.
	Domain string `json:"policy-domain"`
	// Strings is the policy-string: the STS policy lines ("version:
	// STSv1", "mode: enforce", "mx: ...", "max_age: ..."), or the TLSA
	// records in presentation form ("3 1 1 ab12..."), one per element.
	Strings []string `json:"policy-string,omitempty"`
	// MXHosts is the mx-host list: the STS policy's mx patterns.
	MXHosts []string `json:"mx-host,omitempty"`
}

// Failure is one failed session (an RFC 8460 §4.3 failure-details
// entry without its count: the Recorder counts equal Failures).
type Failure struct {
	Result              ResultType
	SendingMTAIP        netip.Addr // our address on the failed connection
	ReceivingMXHostname string     // the MX name we were connecting to
	ReceivingMXHelo     string     // its EHLO name, when we got that far
	ReceivingIP         netip.Addr // its address
	AdditionalInfo      string     // additional-information: a URI or free text
	FailureReasonCode   string     // failure-reason-code: e.g. the TLS library's error
}
