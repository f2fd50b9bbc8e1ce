"""Notifications: match events (built by raqib.present.events) against each
channel's rules, word them for people, deliver them from a durable outbox."""
