#!/usr/bin/env python3
"""(b) The smart script: let the server search (UID SEARCH OR FROM <broker domain> ...), then
fetch and parse only those messages. Fast, but blind to anything not sent from a broker domain:
look-alike domains and display-name spoofs."""

import time

import common
from naive import fetch_and_judge


def search_query(domains):
    """OR FROM a OR FROM b FROM c: IMAP's OR takes exactly two keys."""
    if len(domains) == 1:
        return 'FROM "%s"' % domains[0]
    return 'OR FROM "%s" %s' % (domains[0], search_query(domains[1:]))


def main():
    a = common.args(__doc__)
    started = time.monotonic()
    m = common.connect(a.env)
    common.check(*m.select(a.mailbox, readonly=True), "EXAMINE")
    total = int(m.response("EXISTS")[1][0] or 0)
    uids = common.check(*m.uid("SEARCH", None, search_query(common.ALL_DOMAINS)), "UID SEARCH")[0].split()
    found, nbytes = fetch_and_judge(m, uids)
    m.logout()
    common.report("smart", a.manifest, total, nbytes, found, started)


if __name__ == "__main__":
    main()
