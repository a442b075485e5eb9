using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>
/// One test per request-smuggling and strict-parsing vector: a raw-socket client sends exact bytes, a raw backend
/// records exactly what reached it and reads it with a strict parser. The property everywhere: nothing a second
/// parser could frame differently reaches a backend, and what is refused is refused with a 4xx and a closed
/// connection. The fast path (Lb's own parser) must refuse every listed vector; where Kestrel + YARP accept one
/// leniently but safely (the forwarder re-frames the request), that is asserted for the YARP path instead of a status.
/// </summary>
public abstract class RequestSmugglingTests(ProxyPath path) : ProxyPathTests(path), IAsyncLifetime
{
    private static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(20);
    private LbServer _lb = null!;
    private RecordingBackend _backend = null!;
    private RecordingBackend _other = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _backend = RecordingBackend.Start();
        _other = RecordingBackend.Start();
        _lb = await StartLbAsync();
        // other.test has a backend of its own; everything else (smug.test, no Host at all) goes to the main one.
        await _lb.PutConfigAsync($$$$"""
            {"routes":[
              {"id":"other","enabled":true,"match":{"hosts":["other.test"]},"upstream_pool":"other"},
              {"id":"any","enabled":true,"upstream_pool":"main"}],
             "upstream_pools":{"main":{"upstreams":["{{{{_backend.Address}}}}"]},"other":{"upstreams":["{{{{_other.Address}}}}"]}}}
            """);
    }

    public async ValueTask DisposeAsync()
    {
        await _lb.DisposeAsync();
        await _backend.DisposeAsync();
        await _other.DisposeAsync();
    }

    private sealed record Exchange(RawResponse? Response, bool Closed);

    /// <summary>
    /// Sends <paramref name="raw"/> on a new connection and reads one response; after an error response (or with
    /// <paramref name="checkClosedAfterSuccess"/>), also whether the server then closed the connection.
    /// </summary>
    private async Task<Exchange> SendAsync(string raw, bool checkClosedAfterSuccess = false)
    {
        using var client = await RawHttpClient.ConnectAsync(_lb.ProxyUri.Port, Ct);
        await client.SendAsync(raw, Ct);
        var response = await client.ReadResponseAsync(ResponseTimeout, Ct);
        var closed = response is null
            || ((response.Status >= 400 || checkClosedAfterSuccess) && await client.ClosedWithinAsync(TimeSpan.FromSeconds(10), Ct));
        return new Exchange(response, closed);
    }

    private string Describe(Exchange e) =>
        $"answered {(e.Response is null ? "nothing" : e.Response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture))}, closed: {e.Closed}; "
        + $"backend requests: {_backend.Requests.Count}, ambiguities: [{string.Join("; ", _backend.Ambiguities)}]; backend received:\n{Clip(_backend.Transcript)}";

    private static string Clip(string text) => text.Length <= 2000 ? text : text[..2000] + $"... ({text.Length} characters)";

    private bool IsRejected(Exchange e, int[] statuses) =>
        e.Response is { } r && statuses.Contains(r.Status) && e.Closed && _backend.Requests.Count == 0 && _other.Requests.Count == 0;

    private bool IsForwardedOnce(Exchange e, string body) =>
        e.Response is { Status: 200 } && _backend.Requests.Count == 1 && _backend.Requests[0].BodyText == body && _other.Requests.Count == 0;

    private void AssertNothingAmbiguousReachedABackend()
    {
        Assert.True(_backend.Ambiguities.Count == 0, "the backend received an ambiguous message: " + string.Join("; ", _backend.Ambiguities) + "\n" + Clip(_backend.Transcript));
        Assert.True(_other.Ambiguities.Count == 0, "the other backend received an ambiguous message: " + string.Join("; ", _other.Ambiguities));
    }

    /// <summary>Refused with one of <paramref name="statuses"/>, connection closed, no backend reached — on both paths.</summary>
    private void AssertRejected(Exchange e, params int[] statuses)
    {
        AssertNothingAmbiguousReachedABackend();
        Assert.True(IsRejected(e, statuses), $"expected {string.Join("/", statuses)} and a closed connection, nothing forwarded: {Describe(e)}");
    }

    /// <summary>
    /// The fast path refuses (400, closed, nothing forwarded); the YARP path may instead accept the one reading Kestrel
    /// takes, as long as the backend gets exactly one well-framed request with <paramref name="body"/>.
    /// </summary>
    private void AssertRejectedOrSafelyReframedOnYarp(Exchange e, string body)
    {
        AssertNothingAmbiguousReachedABackend();
        var ok = IsRejected(e, [400]) || (TestedPath == ProxyPath.Yarp && IsForwardedOnce(e, body));
        Assert.True(ok, $"expected 400 and a closed connection, nothing forwarded{(TestedPath == ProxyPath.Yarp ? $", or one request with body '{body}'" : "")}: {Describe(e)}");
    }

    /// <summary>Valid (if unusual) input: refused, or forwarded as exactly one request with <paramref name="body"/>.</summary>
    private void AssertRejectedOrForwardedOnce(Exchange e, string body)
    {
        AssertNothingAmbiguousReachedABackend();
        Assert.True(IsRejected(e, [400]) || IsForwardedOnce(e, body), $"expected 400 or exactly one forwarded request with body '{body}': {Describe(e)}");
    }

    private const string Smuggled = "GET /smuggled HTTP/1.1\r\nHost: smug.test\r\n\r\n";

    [Theory]
    [InlineData("Content-Length: 48", "Transfer-Encoding: chunked")]
    [InlineData("Transfer-Encoding: chunked", "Content-Length: 48")]
    public async Task Content_length_together_with_transfer_encoding_is_refused(string first, string second)
    {
        // 48 bytes = the empty chunked body plus a whole request: one parser sees a body, the other a second request.
        var body = "0\r\n\r\n" + Smuggled;
        Assert.Equal(48, body.Length);
        var e = await SendAsync($"POST /cl-te HTTP/1.1\r\nHost: smug.test\r\n{first}\r\n{second}\r\n\r\n{body}");
        AssertRejectedOrSafelyReframedOnYarp(e, "");
        Assert.DoesNotContain(_backend.Requests, r => r.Target == "/smuggled" && r.Body.Length > 0);
    }

    [Fact]
    public async Task Two_equal_content_lengths_are_refused()
    {
        var e = await SendAsync("POST /dup HTTP/1.1\r\nHost: smug.test\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
        AssertRejectedOrSafelyReframedOnYarp(e, "abc");
    }

    [Theory]
    [InlineData("Content-Length: 3\r\nContent-Length: 5")]
    [InlineData("Content-Length: 3, 5")]
    public async Task Differing_content_lengths_are_refused(string headers)
    {
        var e = await SendAsync($"POST /dup HTTP/1.1\r\nHost: smug.test\r\n{headers}\r\n\r\nabcde");
        AssertRejected(e, 400);
    }

    [Fact]
    public async Task A_content_length_with_a_plus_sign_is_refused()
    {
        // Kestrel reads "+3" as 3; the forwarder then sends a plain "Content-Length: 3", so the backend cannot disagree.
        var e = await SendAsync("POST /cl HTTP/1.1\r\nHost: smug.test\r\nContent-Length: +3\r\n\r\nabc");
        AssertRejectedOrSafelyReframedOnYarp(e, "abc");
    }

    [Theory]
    [InlineData("-3")]
    [InlineData("0x3")]
    [InlineData("3 3")]
    [InlineData("3.0")]
    [InlineData("")]
    [InlineData("99999999999999999999999")]
    public async Task A_malformed_content_length_is_refused(string value)
    {
        var e = await SendAsync($"POST /cl HTTP/1.1\r\nHost: smug.test\r\nContent-Length: {value}\r\n\r\nabc");
        AssertRejected(e, 400, 413);
    }

    [Fact]
    public async Task Whitespace_between_a_header_name_and_its_colon_is_refused()
    {
        var e = await SendAsync("POST /ws HTTP/1.1\r\nHost: smug.test\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc");
        AssertRejected(e, 400);
    }

    [Theory]
    [InlineData("chunked, identity")]
    [InlineData("identity")]
    [InlineData("xchunked")]
    [InlineData("chunked-false")]
    [InlineData("\vchunked")]
    public async Task A_transfer_coding_list_not_ending_in_chunked_is_refused(string coding)
    {
        var e = await SendAsync($"POST /te HTTP/1.1\r\nHost: smug.test\r\nTransfer-Encoding: {coding}\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        AssertRejected(e, 400, 501);
    }

    [Theory]
    [InlineData("gzip, chunked")]
    [InlineData("chunked, chunked")]
    public async Task Transfer_codings_other_than_a_lone_chunked_are_refused(string coding)
    {
        var e = await SendAsync($"POST /te HTTP/1.1\r\nHost: smug.test\r\nTransfer-Encoding: {coding}\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        AssertRejectedOrSafelyReframedOnYarp(e, "abc");
    }

    [Theory]
    [InlineData("Transfer-Encoding: chunked\t")]
    [InlineData("Transfer-Encoding:\tchunked")]
    [InlineData("Transfer-Encoding: CHUNKED")]
    public async Task Chunked_spelled_with_optional_whitespace_or_capitals_is_read_as_chunked_or_refused(string header)
    {
        var e = await SendAsync($"POST /te HTTP/1.1\r\nHost: smug.test\r\n{header}\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        AssertRejectedOrForwardedOnce(e, "abc");
    }

    [Fact]
    public async Task Transfer_encoding_in_a_folded_line_is_refused()
    {
        var e = await SendAsync("POST /fold HTTP/1.1\r\nHost: smug.test\r\nContent-Length: 3\r\nTransfer-Encoding:\r\n chunked\r\n\r\nabc");
        AssertRejected(e, 400);
    }

    [Fact]
    public async Task An_obs_fold_continuation_line_is_refused()
    {
        var e = await SendAsync("GET /fold HTTP/1.1\r\nHost: smug.test\r\nX-Folded: a\r\n b\r\n\r\n");
        AssertRejected(e, 400);
    }

    [Theory]
    [InlineData("GET /cr HTTP/1.1\r\nHost: smug.test\r\nX-A: a\rb\r\n\r\n")]
    [InlineData("GET /cr HTTP/1.1\rHost: smug.test\r\n\r\n")]
    [InlineData("GET /cr HTTP/1.1\r\nHost: smug.test\r\nX-A: a\r\r\n\r\n")]
    public async Task A_bare_CR_is_refused(string raw)
    {
        var e = await SendAsync(raw);
        AssertRejected(e, 400);
    }

    [Theory]
    [InlineData("GET /lf HTTP/1.1\nHost: smug.test\n\n")]
    [InlineData("GET /lf HTTP/1.1\r\nHost: smug.test\nX-A: 1\r\n\r\n")]
    public async Task Bare_LF_line_endings_are_refused_or_reach_the_backend_as_CRLF(string raw)
    {
        var e = await SendAsync(raw);
        AssertRejectedOrForwardedOnce(e, "");
    }

    [Theory]
    [InlineData("FFFFFFFFFFFFFFFFFFFF1\r\nabc\r\n0\r\n\r\n")] // overflows 64 bits
    [InlineData("zz\r\nabc\r\n0\r\n\r\n")]
    [InlineData("-3\r\nabc\r\n0\r\n\r\n")]
    [InlineData("0x3\r\nabc\r\n0\r\n\r\n")]
    [InlineData("3\r\nabcXY0\r\n\r\n")] // chunk data not followed by CRLF
    [InlineData("3\nabc\n0\n\n")] // bare LF after the size
    public async Task An_invalid_chunk_is_refused_and_no_complete_request_reaches_the_backend(string chunks)
    {
        var e = await SendAsync($"POST /chunk HTTP/1.1\r\nHost: smug.test\r\nTransfer-Encoding: chunked\r\n\r\n{chunks}");
        AssertNothingAmbiguousReachedABackend();
        // The head may already be on its way upstream when the body turns out bad: what counts is that no complete
        // request with a made-up body was delivered, and the client got a 400 on a closed connection.
        Assert.True(e.Response is { Status: 400 } && e.Closed, Describe(e));
        Assert.Empty(_backend.Requests);
    }

    [Fact]
    public async Task A_chunk_extension_is_read_and_the_body_forwarded_exactly()
    {
        var e = await SendAsync("POST /ext HTTP/1.1\r\nHost: smug.test\r\nTransfer-Encoding: chunked\r\n\r\n3;name=value\r\nabc\r\n2;x=\"q;r\"\r\nde\r\n0\r\n\r\n");
        AssertRejectedOrForwardedOnce(e, "abcde");
    }

    [Fact]
    public async Task An_oversized_request_line_is_414()
    {
        var e = await SendAsync($"GET /{new string('a', 20_000)} HTTP/1.1\r\nHost: smug.test\r\n\r\n");
        AssertRejected(e, 414);
    }

    [Fact]
    public async Task Oversized_headers_are_431()
    {
        var e = await SendAsync($"GET /big HTTP/1.1\r\nHost: smug.test\r\nX-Big: {new string('a', 40_000)}\r\n\r\n");
        AssertRejected(e, 431);
    }

    [Fact]
    public async Task Too_many_headers_are_431()
    {
        var headers = string.Concat(Enumerable.Range(0, 150).Select(i => $"X-N{i}: v\r\n"));
        var e = await SendAsync($"GET /many HTTP/1.1\r\nHost: smug.test\r\n{headers}\r\n");
        AssertRejected(e, 431);
    }

    [Fact]
    public async Task A_request_head_dribbled_byte_by_byte_is_cut_off_by_the_head_timeout()
    {
        using var client = await RawHttpClient.ConnectAsync(_lb.ProxyUri.Port, Ct);
        await client.SendAsync("GET /slow HTTP/1.1\r\nHost: smug.test\r\n", Ct);
        using var dribbling = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var dribble = Task.Run(async () =>
        {
            // One header byte every 200 ms keeps any idle timer happy but never completes the head.
            while (!dribbling.IsCancellationRequested)
            {
                await client.SendAsync("X", dribbling.Token);
                await Task.Delay(200, dribbling.Token);
            }
        }, CancellationToken.None);
        // Lb.Server's head timeout is 5 s (Kestrel's RequestHeadersTimeout); generous for a loaded machine.
        var response = await client.ReadResponseAsync(TimeSpan.FromSeconds(40), Ct);
        await dribbling.CancelAsync();
        await dribble.ContinueWith(_ => { }, TaskScheduler.Default);
        Assert.True(response is null || response.Status == 408, $"answered {response?.Status}");
        if (response is not null)
        {
            Assert.True(await client.ClosedWithinAsync(TimeSpan.FromSeconds(10), Ct), "408 without closing the connection");
        }
        Assert.Empty(_backend.Requests);
    }

    [Fact]
    public async Task A_header_named_in_a_connection_list_with_keep_alive_does_not_reach_the_backend()
    {
        Assert.SkipWhen(TestedPath == ProxyPath.Yarp,
            "YARP path gap (docs/reliability.md, 'Headers named in Connection'): Kestrel rewrites 'Connection: keep-alive, X-Secret' to 'keep-alive' before the forwarder sees the list; only a connection-level parser can honour it");
        var e = await SendAsync("GET /conn HTTP/1.1\r\nHost: smug.test\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nX-Kept: 1\r\n\r\n");
        AssertNothingAmbiguousReachedABackend();
        Assert.True(IsForwardedOnce(e, ""), Describe(e));
        var forwarded = _backend.Requests[0];
        Assert.Empty(forwarded.Values("X-Secret"));
        Assert.Equal("1", Assert.Single(forwarded.Values("X-Kept")));
    }

    [Fact]
    public async Task Pipelined_requests_are_answered_in_order_with_their_own_bodies()
    {
        using var client = await RawHttpClient.ConnectAsync(_lb.ProxyUri.Port, Ct);
        await client.SendAsync(
            "GET /p1 HTTP/1.1\r\nHost: smug.test\r\n\r\n"
            + "POST /p2 HTTP/1.1\r\nHost: smug.test\r\nContent-Length: 3\r\n\r\nabc"
            + "POST /p3 HTTP/1.1\r\nHost: smug.test\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
            + "GET /p4 HTTP/1.1\r\nHost: smug.test\r\n\r\n", Ct);
        var bodies = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var response = await client.ReadResponseAsync(ResponseTimeout, Ct);
            Assert.NotNull(response);
            Assert.Equal(200, response.Status);
            bodies.Add(response.Body);
        }
        Assert.Equal(["/p1 0", "/p2 3", "/p3 2", "/p4 0"], bodies);
        AssertNothingAmbiguousReachedABackend();
        Assert.Equal(["/p1:", "/p2:abc", "/p3:de", "/p4:"], _backend.Requests.Select(r => $"{r.Target}:{r.BodyText}"));
    }

    [Fact]
    public async Task Expect_100_continue_gets_an_interim_response_before_the_body_is_sent()
    {
        using var client = await RawHttpClient.ConnectAsync(_lb.ProxyUri.Port, Ct);
        await client.SendAsync("POST /expect HTTP/1.1\r\nHost: smug.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", Ct);
        var interim = await client.ReadResponseAsync(ResponseTimeout, Ct);
        Assert.NotNull(interim);
        Assert.Equal(100, interim.Status);
        await client.SendAsync("hello", Ct);
        var final = await client.ReadResponseAsync(ResponseTimeout, Ct);
        Assert.NotNull(final);
        Assert.Equal(200, final.Status);
        Assert.Equal("/expect 5", final.Body);
        AssertNothingAmbiguousReachedABackend();
        Assert.Equal("hello", Assert.Single(_backend.Requests).BodyText);
    }

    [Fact]
    public async Task An_http10_request_without_host_is_forwarded_once_and_the_connection_closed()
    {
        var e = await SendAsync("GET /ten HTTP/1.0\r\n\r\n", checkClosedAfterSuccess: true);
        AssertNothingAmbiguousReachedABackend();
        Assert.True(IsRejected(e, [400]) || (IsForwardedOnce(e, "") && e.Closed && _backend.Requests[0].Target == "/ten"), Describe(e));
    }

    [Fact]
    public async Task An_absolute_form_target_is_forwarded_once_for_its_host()
    {
        var e = await SendAsync("GET http://smug.test/abs?q=1 HTTP/1.1\r\nHost: smug.test\r\n\r\n");
        AssertNothingAmbiguousReachedABackend();
        Assert.True(IsForwardedOnce(e, ""), Describe(e));
        var forwarded = _backend.Requests[0];
        Assert.Contains(forwarded.Target, new[] { "/abs?q=1", "http://smug.test/abs?q=1" });
        Assert.Equal("smug.test", Assert.Single(forwarded.Values("Host")));
    }

    [Fact]
    public async Task An_absolute_form_target_whose_host_differs_from_the_host_header_is_refused_or_routed_by_the_target()
    {
        var e = await SendAsync("GET http://smug.test/abs HTTP/1.1\r\nHost: other.test\r\n\r\n");
        AssertNothingAmbiguousReachedABackend();
        // RFC 9112 §3.2.2: the target's authority wins. Routing by one name and telling the backend the other is the bug.
        Assert.Empty(_other.Requests);
        Assert.True(IsRejected(e, [400]) || (IsForwardedOnce(e, "") && _backend.Requests[0].Values("Host").SequenceEqual(["smug.test"])), Describe(e));
    }

    [Fact]
    public async Task A_well_formed_request_after_a_refused_one_never_shares_its_connection()
    {
        // The classic desync: a refused request whose unread body would be parsed as the next request.
        var e = await SendAsync("POST /first HTTP/1.1\r\nHost: smug.test\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\n" + Smuggled);
        AssertRejected(e, 400);
        Assert.DoesNotContain(_backend.Requests, r => r.Target == "/smuggled");
    }
}

public sealed class RequestSmugglingTestsOnYarpPath() : RequestSmugglingTests(ProxyPath.Yarp);

public sealed class RequestSmugglingTestsOnFastPath() : RequestSmugglingTests(ProxyPath.Fast);

public sealed class RequestSmugglingTestsOnLoopPath() : RequestSmugglingTests(ProxyPath.Loop);
