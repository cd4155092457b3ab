import sys
def test_p():
    print(__name__, [p for p in sys.path if 'work' in p])
