#!/usr/bin/env python3
# Writes the mail fixtures of t0550 (run once; the outputs are committed
# and were checked by hand): inbox.mbox, Maildir/, attachment.bin.
import base64, os, random

here = os.path.dirname(os.path.abspath(__file__))
rnd = random.Random(7)
att = bytes(rnd.randrange(256) for _ in range(3000))
open(os.path.join(here, 'attachment.bin'), 'wb').write(att)
b64 = base64.encodebytes(att).decode()

root = """Message-ID: <root.1@example.org>
Date: Thu, 04 Jan 2024 10:00:00 +0000
From: Alice Martin <alice@example.org>
To: =?UTF-8?Q?Bob_Lef=C3=A8vre?= <bob@example.org>
Cc: =?UTF-8?B?6ZmI5Lyf?= <chen@example.org>
Subject: =?UTF-8?B?UsOpc3VsdGF0cyBkZSBsJ2FibGF0aW9uIOS4reaWhyDwn5qA?=
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Salut Bob,

les résultats sont là: 0.91 🎉
>From the notes: the café run was the best.
"""

reply2 = """Message-ID: <reply.2@example.org>
In-Reply-To: <root.1@example.org>
References: <root.1@example.org>
Date: Thu, 04 Jan 2024 11:30:00 +0100
From: =?ISO-8859-1?Q?Bob_Lef=E8vre?= <bob@example.org>
To: Alice Martin <alice@example.org>
Subject: Re: =?UTF-8?B?UsOpc3VsdGF0cyBkZSBsJ2FibGF0aW9uIOS4reaWhyDwn5qA?=
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

Merci Alice, tr=E8s bien. Le caf=E9 est pr=EAt, et la suite arrive tr=
=E8s bient=F4t.
"""

reply3 = """Message-ID: <reply.3@example.org>
In-Reply-To: <reply.2@example.org>
References: <root.1@example.org> <reply.2@example.org>
Date: Thu, 04 Jan 2024 12:00:00 +0000
From: =?UTF-8?B?6ZmI5Lyf?= <chen@example.org>
To: Alice Martin <alice@example.org>, =?UTF-8?Q?Bob_Lef=C3=A8vre?= <bob@example.org>
Subject: Re: =?UTF-8?B?UsOpc3VsdGF0cyBkZSBsJ2FibGF0aW9uIOS4reaWhyDwn5qA?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=-b1"

--=-b1
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

我也跑了 👍 the plot is attached; write to chen.wei@example.org
--=-b1
Content-Type: application/octet-stream
Content-Disposition: attachment; filename*=UTF-8''plot-donn%C3%A9es.bin
Content-Transfer-Encoding: base64

""" + b64 + """--=-b1--
"""

noid = """Date: Fri, 05 Jan 2024 08:00:00 +0000
From: newsletter@example.com
To: alice@example.org
Subject: Weekly news
MIME-Version: 1.0
Content-Type: text/html; charset=UTF-8

<p>Weekly <b>news</b></p>
"""

with open(os.path.join(here, 'inbox.mbox'), 'w', encoding='utf-8', newline='\n') as f:
    for frm, when, m in [
        ('alice@example.org', 'Thu Jan  4 10:00:01 2024', root),
        ('bob@example.org', 'Thu Jan  4 10:30:01 2024', reply2),
        ('chen@example.org', 'Thu Jan  4 12:00:01 2024', reply3),
        ('newsletter@example.com', 'Fri Jan  5 08:00:01 2024', noid)]:
        f.write('From %s %s\n%s\n' % (frm, when, m))

md = os.path.join(here, 'Maildir')
for d in ('cur', 'new', 'tmp'):
    os.makedirs(os.path.join(md, d), exist_ok=True)
open(os.path.join(md, 'tmp', '.keep'), 'w').close()

m1 = """Message-ID: <m1@lab.example>
Date: Fri, 05 Jan 2024 09:00:00 +0000
From: Alice Martin <alice@example.org>
To: lab@example.org
Subject: Reading group: «attention» 📚
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=UTF-8

Who presents on Friday? Salle 3, café après.
--alt
Content-Type: text/html; charset=UTF-8

<p>Who presents on Friday? Salle 3, café après.</p>
--alt--
"""
m2 = """Message-ID: <m2@lab.example>
In-Reply-To: <m1@lab.example>
References: <m1@lab.example>
Date: Fri, 05 Jan 2024 10:00:00 +0000
From: Bob <bob@example.org>
To: lab@example.org
Subject: Re: Reading group
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

Moi! Je pr=E9sente le papier.
"""
m3 = """Message-ID: <m3@lab.example>
In-Reply-To: <m2@lab.example>
References: <m1@lab.example> <m2@lab.example>
From: =?UTF-8?B?6ZmI5Lyf?= <chen@example.org>
To: lab@example.org
Subject: Re: Reading group
Content-Type: text/plain; charset=UTF-8

好的，我带咖啡 ☕ (no Date header: the time is the Maildir name's)
"""
for sub, name, m in [('cur', '1704445200.M1P1.host:2,S', m1),
                     ('cur', '1704448800.M2P1.host:2,RS', m2),
                     ('new', '1704452400.M3P1.host', m3)]:
    with open(os.path.join(md, sub, name), 'w', encoding='utf-8', newline='\n') as f:
        f.write(m)
