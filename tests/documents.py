"""Documents the format tests write to disk or serve: Markdown, an HTML article page, a PDF."""

from __future__ import annotations

MARKDOWN = """\
---
title: Station notes
---
# Lunar Station

![logo](https://example.com/logo.png) The station will be built near the south pole of the Moon.
See [the plan](https://example.com/plan.html) for details.

## Partners

Roscosmos and CNSA signed the memorandum in March 2021.

```python
print("the secret launch code is 1234")
```

    indented = "code is not prose either"

| Agency | Country |
|---|---|
| Roscosmos | Russia |
| CNSA | China |

<div class="banner">Subscribe to our newsletter</div>

- The first module will launch in 2026.
- A crew will follow in 2030.
"""

ARTICLE_TITLE = "Moon base plans agreed"
HTML = f"""\
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{ARTICLE_TITLE} | Space Daily</title></head>
<body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World news</a></li>
<li><a href="/science">Science and technology</a></li><li><a href="/about">About us</a></li>
</ul></nav></header>
<main><article>
<h1>{ARTICLE_TITLE}</h1>
<p>The heads of Roscosmos and CNSA signed a memorandum on an international lunar research
station on Tuesday. The ceremony took place by videoconference.</p>
<h2>What comes next</h2>
<p>The partners will invite other countries to join the project, which is open to all
interested nations. The station will be built near the south pole of the Moon.</p>
<p>In November 2017 the two agencies signed a cooperation plan for the years 2018-2022.</p>
</article></main>
<div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Tweet</a>
<a href="#">Share by e-mail</a></div>
<section id="comments" class="comments"><h3>3 comments</h3>
<div class="comment"><p class="comment-author">moonfan</p><p>I think the memorandum was signed
by Elon Musk at his ranch in Texas in 1999, whatever they say.</p></div>
<p>Leave a comment. You must be logged in to post a comment.</p></section>
<footer><p>Copyright 2021 Space Daily. All rights reserved. The station photo was taken by
Jane Doe in Houston.</p><p><a href="/privacy">Privacy policy</a></p></footer>
</body></html>
"""

PDF_PAGES = [
    ["The memorandum on the lunar station was signed on Tuesday.",
     "The ceremony took place by videoconference."],
    ["The station will be built near the south pole of the Moon.",
     "The first module will launch in 2026."],
]
