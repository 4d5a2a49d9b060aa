"""The poller Lambda's Handler (infra: producers.handler.handler); see producers.poller.entry."""

from producers.poller.entry import handler as handler
