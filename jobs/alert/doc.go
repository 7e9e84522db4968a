// Package alert raises adlake's data-quality alerts: it turns findings
// (one check on one table and partition, graded pass, warn or fail) into
// "firing" and "resolved" messages, delivers them through the configured
// channels (package channel: SNS, email, webhook) and records every
// message in ops.alerts.
//
// A condition is one check on one table and partition, keyed
// "check|table|partition" ([Finding.Key]). For each condition the
// [Alerter] guarantees:
//
//   - one "firing" message when it starts to warn or fail, and one more
//     only when it gets worse (warn to fail); nothing while it persists or
//     improves without passing (fail to warn);
//   - one "resolved" message when it passes again, and only if a firing
//     message is open;
//   - nothing for a condition without a finding in the call: an idle run
//     that observed nothing never resolves an open alert;
//   - every message is recorded in ops.alerts, delivered or not, and the
//     state advances even when a channel fails, so a channel that is down
//     never makes the others repeat themselves.
//
// The state is ops.alerts itself (the latest row of a key decides, see
// [Open]), so it holds across runs and processes; the package keeps no
// state of its own.
//
// [NewChannels] assembles the configured channels from plain options; the
// package does not read adlake's configuration (cmd converts it).
package alert
