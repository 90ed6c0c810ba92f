"""stechec.common.xmlrpc_codec against the standard library's unmarshaller, its oracle."""

import contextlib
import datetime
import random
import socket
import threading
import xmlrpc.client

import pytest

from stechec.common import httpwire, rpc, xmlrpc_codec


def stdlib_loads(data):
    return xmlrpc.client.loads(data, use_builtin_types=True)


def random_value(rng, depth=0):
    """A value of any type XML-RPC carries, nested up to a few levels."""
    kinds = ["str", "int", "bool", "float", "none", "bytes", "datetime"]
    if depth < 4:
        kinds += ["list", "dict"] * 2
    kind = rng.choice(kinds)
    if kind == "str":
        alphabet = "ab <>&\"' \n\t\r\x7féü€漢🙂]]>"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
    if kind == "int":
        return rng.randint(-2**31, 2**31 - 1)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "float":
        return rng.choice([0.0, -1.5, 1e300, 2.5e-300, rng.uniform(-1e6, 1e6)])
    if kind == "none":
        return None
    if kind == "bytes":
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
    if kind == "datetime":
        return datetime.datetime(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28),
                                 rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    return {str(random_value(rng, 4)): random_value(rng, depth + 1)
            for _ in range(rng.randrange(0, 5))}


@pytest.mark.parametrize("seed", range(200))
def test_random_calls_and_answers_read_as_the_standard_library_reads_them(seed):
    rng = random.Random(seed)
    params = tuple(random_value(rng) for _ in range(rng.randrange(0, 4)))
    for document in (xmlrpc.client.dumps(params, f"method_{seed}", allow_none=True),
                     xmlrpc.client.dumps(params[:1] or ("",), methodresponse=True,
                                         allow_none=True)):
        data = document.encode("utf-8", "xmlcharrefreplace")
        assert xmlrpc_codec.loads(data) == stdlib_loads(data)


# Documents no Marshaller writes but other XML-RPC implementations may.
HAND_WRITTEN = [
    b"<methodCall><methodName>m</methodName></methodCall>",
    b"<methodCall><methodName>m</methodName><params></params></methodCall>",
    b"<methodCall>\n  <methodName>m</methodName>\n  <params>\n <param>\n  <value>untyped"
    b"</value>\n </param>\n  </params>\n</methodCall>",
    b"<methodCall><methodName>m</methodName><params><param><value/></param><param><value>"
    b"<string/></value></param><param><value>  </value></param></params></methodCall>",
    b"<methodCall><methodName>m</methodName><params><param><value><i4> 42 </i4></value>"
    b"</param><param><value><i8>-7</i8></value></param><param><value><boolean>1</boolean>"
    b"</value></param></params></methodCall>",
    b"<methodCall><methodName>m</methodName><params><param><value><struct><member><name>"
    b"</name><value><array><data/></array></value></member></struct></value></param>"
    b"</params></methodCall>",
    b"<?xml version='1.0' encoding='iso-8859-1'?><methodResponse><params><param><value>"
    b"caf\xe9</value></param></params></methodResponse>",
    b"<methodResponse><params><param><value><base64>aGVs\nbG8=</base64></value></param>"
    b"</params></methodResponse>",
    '<?xml version="1.0" encoding="UTF-16"?><methodCall><methodName>m</methodName><params>'
    "<param><value>caf\u00e9</value></param></params></methodCall>".encode("utf-16"),
]


@pytest.mark.parametrize("data", HAND_WRITTEN)
def test_hand_written_documents_read_as_the_standard_library_reads_them(data):
    assert xmlrpc_codec.loads(data) == stdlib_loads(data)


def test_a_fault_answer_raises_the_fault():
    data = xmlrpc.client.dumps(xmlrpc.client.Fault(7, "no <such> thing"),
                               methodresponse=True).encode()
    with pytest.raises(xmlrpc.client.Fault) as expected:
        stdlib_loads(data)
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc_codec.loads(data)
    assert (raised.value.faultCode, raised.value.faultString) == \
        (expected.value.faultCode, expected.value.faultString)


def call(values_xml):
    return (b"<methodCall><methodName>m</methodName><params><param>" + values_xml
            + b"</param></params></methodCall>")


MALFORMED = [
    (b"<methodCall><methodName>m</methodName><params>", "not well-formed"),
    (b"", "not well-formed"),
    (b"<html><body>502</body></html>", "unexpected root element <html>"),
    (b"<methodCall><params/></methodCall>", "must start with a <methodName>"),
    (b"<methodCall><methodName></methodName></methodCall>", "must start with a <methodName>"),
    (b"<methodCall><methodName>m</methodName><params/><params/></methodCall>",
     "one <params> at most"),
    (b"<methodCall><methodName>m</methodName><params><value>1</value></params></methodCall>",
     "unexpected <value> in <params>"),
    (call(b"<value><int>1</int><int>2</int></value>"), "exactly one <int>"),
    (call(b"<value><int>one</int></value>"), "bad <int> 'one'"),
    (call(b"<value><boolean>true</boolean></value>"), "bad <boolean> 'true'"),
    (call(b"<value><double>x</double></value>"), "bad <double> 'x'"),
    (call(b"<value><nil>x</nil></value>"), "bad <nil> 'x'"),
    (call(b"<value><base64>\xc3\xa9</base64></value>"), "bad <base64>"),
    (call(b"<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>"),
     "bad <dateTime.iso8601> 'yesterday'"),
    (call(b"<value><int><int>1</int></int></value>"), "<int> holds elements"),
    (call(b"<value><list>1</list></value>"), "unknown type <list>"),
    (call(b"<value><array><value>1</value></array></value>"), "exactly one <data>"),
    (call(b"<value><struct><member><value>1</value><name>a</name></member></struct></value>"),
     "<name> then <value>"),
    (call(b"<value><struct><item/></struct></value>"), "<name> then <value>"),
    (call(b"<value><array><data><int>1</int></data></array></value>"), "expected <value>"),
    (b"<methodResponse><fault><value><int>1</int></value></fault></methodResponse>",
     "faultCode and faultString"),
    (b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]><methodCall><methodName>m'
     b"</methodName><params><param><value>&a;</value></param></params></methodCall>",
     "document type declarations are not accepted"),
    ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE m [<!ENTITY a "aaaa">]><methodCall>'
     "<methodName>m</methodName><params><param><value>&a;</value></param></params>"
     "</methodCall>".encode("utf-16"), "document type declarations are not accepted"),
    (b'<!DOCTYPE m SYSTEM "file:///etc/passwd"><methodCall><methodName>m</methodName>'
     b"</methodCall>", "document type declarations are not accepted"),
    # Expat reads no UTF-32 at all.
    ('<?xml version="1.0" encoding="UTF-32"?><!DOCTYPE m [<!ENTITY a "aaaa">]><methodCall>'
     "<methodName>&a;</methodName></methodCall>".encode("utf-32"), "not well-formed XML"),
    (b'<!DOCTYPE m [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x">%p;]><methodCall>'
     b"<methodName>m</methodName></methodCall>", "document type declarations are not accepted"),
    (b"<methodCall><methodName>m\0</methodName></methodCall>", "not well-formed XML"),
    (call(b"<value><array><data>" * 5000 + b"</data></array></value>" * 5000),
     "nested too deeply"),
]


@pytest.mark.parametrize("data,words", MALFORMED)
def test_malformed_documents_are_refused_naming_what_is_wrong(data, words):
    with pytest.raises(ValueError) as raised:
        xmlrpc_codec.loads(data)
    assert words in str(raised.value)


@contextlib.contextmanager
def answering(body):
    """A port where every request gets HTTP 200 with `body`."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        connection, _ = listener.accept()
        with connection, connection.makefile("rb") as reader:
            head = httpwire.read_head(reader)
            httpwire.read_body(reader, httpwire.content_length(head[1], 1 << 20))
            connection.sendall(httpwire.message("HTTP/1.1 200 OK", [], body))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        thread.join(timeout=30)
        listener.close()


@pytest.mark.parametrize("body,words", [
    (b"<html>Bad gateway</html>", "unexpected root element <html>"),
    (xmlrpc.client.dumps(("echo",), "echo").encode(), "not an answer of one value"),
])
def test_a_client_given_a_malformed_answer_gets_a_protocol_error(body, words):
    with answering(body) as port:
        client = rpc.RPCClient(rpc.server_url("127.0.0.1", port), "secret", timeout=30)
        with pytest.raises(xmlrpc.client.ProtocolError) as raised:
            client.echo("x")
        client.close()
    assert raised.value.errcode == 0 and words in raised.value.errmsg
