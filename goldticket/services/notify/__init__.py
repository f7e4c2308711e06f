"""Notices delivered outside the portal (#20): by e-mail through SMTP and by signed webhooks to
a member's ERP, each member choosing by its own admin what goes where (:mod:`.preferences`).
The follower queues each notice as it writes it (goldticket.store.outbox); :mod:`.worker`
delivers the queue (``goldticket notify run``, or a thread of the web app when
GOLDTICKET_NOTIFY_SECONDS is set). docs/notifications.md describes the scheme."""
