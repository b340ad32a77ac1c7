package metrics

// ConnectionOpened counts a connection accepted on listener (the name the
// configuration gives it, e.g. "smtp", "submission", "smtps") and marks a
// session active until the matching ConnectionClosed.
func (m *Metrics) ConnectionOpened(listener string) {
	if m == nil {
		return
	}
	l := m.listener.value(listener)
	m.connections.WithLabelValues(l).Inc()
	m.sessions.WithLabelValues(l).Inc()
}

// ConnectionClosed ends a session begun by ConnectionOpened with the same
// listener name.
func (m *Metrics) ConnectionClosed(listener string) {
	if m == nil {
		return
	}
	m.sessions.WithLabelValues(m.listener.value(listener)).Dec()
}

// ConnectionRefused counts a connection turned away before a session
// began (too many connections, a DNSBL at connect, a rate limit).
func (m *Metrics) ConnectionRefused(reason string) {
	if m == nil {
		return
	}
	m.refused.WithLabelValues(m.refusedReason.value(reason)).Inc()
}

// Message counts a message by outcome ("accepted", "refused", "deferred";
// anything else is recorded as "other") and a short reason ("" for none).
func (m *Metrics) Message(outcome, reason string) {
	if m == nil {
		return
	}
	m.messages.WithLabelValues(m.msgOutcome.value(outcome), m.msgReason.value(reason)).Inc()
}

// EngineResult counts one result of a policy engine, e.g. ("spf", "pass")
// or ("dmarc", "fail").
func (m *Metrics) EngineResult(engine, result string) {
	if m == nil {
		return
	}
	m.engines.WithLabelValues(m.engine.value(engine), m.engineResult.value(result)).Inc()
}

// Delivery counts one delivery attempt by transport ("maildir", "smtp")
// and outcome ("delivered", "deferred", "failed", "bounced").
func (m *Metrics) Delivery(transport, outcome string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(m.transport.value(transport), m.delivOutcome.value(outcome)).Inc()
}

// AuthAttempt counts one SMTP AUTH attempt. mechanism is what the client
// sent and may be anything: names outside the known SASL mechanisms are
// recorded as "other".
func (m *Metrics) AuthAttempt(mechanism, result string) {
	if m == nil {
		return
	}
	m.auth.WithLabelValues(m.authMech.value(mechanism), m.authResult.value(result)).Inc()
}

// BytesReceived adds n message bytes; n <= 0 is ignored (a counter must
// not go down, and prometheus panics if asked to).
func (m *Metrics) BytesReceived(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.bytes.Add(float64(n))
}
