"""The post-build rewrite of the pages (pwa_app/pwa/plugin.py): module preloads low priority, compressed copies
rewritten with them, other files untouched."""

import gzip

import brotli

from pwa_app.pwa.plugin import paint_before_scripts

PAGE = ('<html><head><link rel="stylesheet" href="/assets/app.css"/><link rel="modulepreload" href="/assets/a.js"/>'
        '<link rel="modulepreload" href="/assets/b.js"/></head><body><script type="module">import "/assets/a.js";'
        "</script></body></html>")


def test_module_preloads_are_lowered_in_every_page_and_its_compressed_copies(tmp_path):
    page = tmp_path / "es" / "tramite" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(PAGE)
    (tmp_path / "es" / "tramite" / "index.html.gz").write_bytes(gzip.compress(PAGE.encode()))
    (tmp_path / "es" / "tramite" / "index.html.br").write_bytes(brotli.compress(PAGE.encode()))
    plain = tmp_path / "404.html"
    plain.write_text("<html><body>No encontrado</body></html>")

    assert paint_before_scripts(tmp_path) == 1
    html = page.read_text()
    assert html.count('<link fetchpriority="low" rel="modulepreload"') == 2
    assert 'rel="modulepreload"' not in html.replace('fetchpriority="low" rel="modulepreload"', "")
    assert '<link rel="stylesheet" href="/assets/app.css"/>' in html  # the stylesheet keeps its priority
    assert gzip.decompress((tmp_path / "es" / "tramite" / "index.html.gz").read_bytes()).decode() == html
    assert brotli.decompress((tmp_path / "es" / "tramite" / "index.html.br").read_bytes()).decode() == html
    assert plain.read_text() == "<html><body>No encontrado</body></html>"
    assert not (tmp_path / "404.html.gz").exists()
