#!/usr/bin/env python3
"""(c) The floor: one bare `UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE
MESSAGE-ID)])`. What it can tell is only what the sender's address says: mail from a broker
domain counts as a notice; phishing is out of its sight."""

import re
import time

import common

FROM_DOMAIN = re.compile(rb"(?im)^From:.*@([A-Za-z0-9.-]+)>?\s*$")
MSGID = re.compile(rb"(?im)^Message-ID:\s*<?([^>\r\n]+)>?")


def main():
    a = common.args(__doc__)
    started = time.monotonic()
    m = common.connect(a.env)
    common.check(*m.select(a.mailbox, readonly=True), "EXAMINE")
    data = common.check(*m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)])"),
                        "UID FETCH")
    found, nbytes, n = {}, 0, 0
    for _, head in common.fetch_items(data):
        n += 1
        nbytes += len(head)
        d = FROM_DOMAIN.search(head)
        i = MSGID.search(head)
        if d and i and common.broker_of_domain(d.group(1).decode()):
            found[i.group(1).decode().strip()] = "notice"
    m.logout()
    common.report("floor", a.manifest, n, nbytes, found, started)


if __name__ == "__main__":
    main()
