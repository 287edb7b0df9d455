import sys; sys.path.insert(0,'/tmp/qa45')
from lib import *
from playwright.sync_api import sync_playwright
url = open('/tmp/qa45/review2.log').readline().strip()
W='/tmp/qa45/W'
with sync_playwright() as p:
    b = p.chromium.launch(executable_path="/usr/bin/chromium")
    ctx = b.new_context(viewport={'width':1280,'height':900}); t1=ctx.new_page(); t1.goto(url); t1.wait_for_timeout(3000)
    print('H0', [x[:60] for x in groups(t1)])
    print('H1 undo (watch stopped, server 2 open, old review run is last):', sh(f'{SORTER} undo {W}; echo rc=$?'))
    print(check()); print(sh(f'ls {W}/cats/Fred 2>&1 | head -3; ls {W}/cats/Kit 2>&1 | head -2'))
    print('H2 stale t1 Dog on a Fred photo undo moved back:', click(t1,'photo_2025-05-13_20-58-42.jpg','Dog','sH2.png'))
    print('H3 stale t1 Cat on c105 (undo moved it back to cats/):', click(t1,'c105.jpg','Neither','sH3.png'))
    t1.reload(); t1.wait_for_timeout(3000); print('H4 reload', [x[:60] for x in groups(t1)]); t1.screenshot(path='/tmp/qa45/sH4.png')
    print(check())
    b.close()
