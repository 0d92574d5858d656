"""The post-build rewrite of the citizen pages (pwa_app/pwa/plugin.py): scripts started by `load`, compressed
copies rewritten with them, staff pages and other files untouched. PAGE is React Router 7's own output (Reflex
0.10.1), trimmed: when an upgrade changes it, these tests and the build fail instead of shipping a page that never
starts its scripts."""

import gzip
import subprocess

import brotli
import pytest

from pwa_app.pwa.plugin import paint_before_scripts, scripts_after_load

BOOT = ('<script type="module" async="">import "/assets/manifest-ab7fdc56.js";\n'
        'import * as route0 from "/assets/root-Bb1_Ubrz.js";\n'
        'import * as route1 from "/assets/_es_._index-BYk-AKYh.js";\n  \n'
        '  window.__reactRouterRouteModules = {"root":route0,"routes/[es]._index":route1};\n\n'
        'import("/assets/entry.client-C6W-s5_T.js");</script>')
PAGE = ('<html><head><link rel="stylesheet" href="/assets/app.css"/>'
        '<link rel="modulepreload" href="/assets/manifest-ab7fdc56.js"/>'
        '<link rel="modulepreload" href="/assets/entry.client-C6W-s5_T.js"/></head>'
        f'<body><main><h1>Trámites</h1></main>{BOOT}</body></html>')


def test_scripts_start_on_load_and_import_what_react_router_imported():
    html = scripts_after_load(PAGE)
    assert "modulepreload" not in html and "<h1>Trámites</h1>" in html
    assert '<link rel="stylesheet" href="/assets/app.css"/>' in html  # the stylesheet still blocks, as it must
    script = html[html.index('<script type="module">'):html.index("</script>") + 9]
    assert 'addEventListener("load", start' in script and "import " not in script.replace("import(", "")
    for url in ("manifest-ab7fdc56", "root-Bb1_Ubrz", "_es_._index-BYk-AKYh", "entry.client-C6W-s5_T"):
        assert f'import("/assets/{url}.js")' in script
    assert 'const [route0, route1] = await Promise.all(' in script
    body = script.removeprefix('<script type="module">').removesuffix("</script>")
    subprocess.run(["node", "--check", "--input-type=module"], input=body, text=True, check=True)  # valid JS


def test_a_page_whose_boot_module_changed_fails_the_build():
    with pytest.raises(ValueError):
        scripts_after_load(PAGE.replace(BOOT, '<script type="module">import("/assets/entry.client.js")</script>'))


def test_every_citizen_page_and_its_compressed_copies_are_rewritten(tmp_path):
    page = tmp_path / "es" / "tramite" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(PAGE)
    (tmp_path / "es" / "tramite" / "index.html.gz").write_bytes(gzip.compress(PAGE.encode()))
    (tmp_path / "es" / "tramite" / "index.html.br").write_bytes(brotli.compress(PAGE.encode()))
    staff = tmp_path / "staff" / "index.html"
    staff.parent.mkdir()
    staff.write_text(PAGE)
    plain = tmp_path / "404.html"
    plain.write_text("<html><body>No encontrado</body></html>")

    assert paint_before_scripts(tmp_path) == 1
    html = page.read_text()
    assert html == scripts_after_load(PAGE)
    assert gzip.decompress((tmp_path / "es" / "tramite" / "index.html.gz").read_bytes()).decode() == html
    assert brotli.decompress((tmp_path / "es" / "tramite" / "index.html.br").read_bytes()).decode() == html
    assert staff.read_text() == PAGE  # staff pages keep React Router's own start
    assert plain.read_text() == "<html><body>No encontrado</body></html>"
    assert not (tmp_path / "404.html.gz").exists()
