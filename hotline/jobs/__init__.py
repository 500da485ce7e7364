"""The scheduler: timed work done by one process (``hotline scheduler``), never by web workers.

``registry`` lists the jobs and runs what is due (``run_due(context, now)``, also for a virtual
clock); ``scheduler`` builds APScheduler from it; ``leader`` elects the one scheduler through the
database; ``process`` is the command's loop. The outbox's delivery: ``delivery`` (claim, send,
retry), ``notices`` (what each kind of row says, to whom), ``mail`` and ``sms`` (the senders).
"""
