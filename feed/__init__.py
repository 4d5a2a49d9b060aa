"""The trader feed: a Kinesis record processor (written to the KCL's interface), the live
state and alert rules it drives, and the aiohttp app that serves the dashboard and pushes
updates to browsers as Server-Sent Events. A stage: it imports the kernel only."""
