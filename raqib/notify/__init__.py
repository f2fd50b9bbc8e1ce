"""Notifications: turn detected changes into events, match them against each
channel's rules, word them for people, deliver them from a durable outbox."""
