using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

public abstract class TlsAndHealthTests(ProxyPath path) : ProxyPathTests(path), IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private (string Cert, string Key) SelfSignedPem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=lb.test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("lb.test");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certPath = Path.Combine(_dir.Path, "proxy.crt");
        var keyPath = Path.Combine(_dir.Path, "proxy.key");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }

    [Fact]
    public async Task With_a_certificate_the_proxy_speaks_http2_over_tls_to_clients()
    {
        var (cert, key) = SelfSignedPem();
        await using var backend = await TestBackend.StartAsync("tls-backend");
        await using var lb = await StartLbAsync(proxy: o =>
        {
            o.ProxyTlsCertificate = cert;
            o.ProxyTlsKey = key;
        });
        Assert.Equal("https", lb.ProxyUri.Scheme);
        await lb.PutConfigAsync(Configs.SingleRoute("lb.test", "round_robin", backend));

        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true; // self-signed test certificate
        using var client = new HttpClient(handler) { BaseAddress = lb.ProxyUri };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/info") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.Host = "lb.test";
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("https", backend.LastHeaders!["X-Forwarded-Proto"].ToString());
    }

    [Fact]
    public async Task With_a_certificate_an_http11_client_is_proxied_over_tls()
    {
        var (cert, key) = SelfSignedPem();
        await using var backend = await TestBackend.StartAsync("tls-backend");
        await using var lb = await StartLbAsync(proxy: o =>
        {
            o.ProxyTlsCertificate = cert;
            o.ProxyTlsKey = key;
        });
        await lb.PutConfigAsync(Configs.SingleRoute("lb.test", "round_robin", backend));

        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true; // self-signed test certificate
        using var client = new HttpClient(handler) { BaseAddress = lb.ProxyUri };
        for (var i = 0; i < 3; i++) // the second and third on the same (kept-alive) TLS connection
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/info") { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            request.Headers.Host = "lb.test";
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(HttpVersion.Version11, response.Version);
            Assert.Equal("tls-backend", response.Headers.GetValues("X-Backend").Single());
        }
        Assert.Equal("https", backend.LastHeaders!["X-Forwarded-Proto"].ToString());
    }

    [Fact]
    public async Task A_target_that_keeps_refusing_live_traffic_is_ejected_and_shown_in_the_runtime_view()
    {
        await using var backend = await TestBackend.StartAsync("alive");
        using var refusing = new RefusingPort();
        var dead = refusing.Address;
        await using var lb = await StartLbAsync();
        await lb.PutConfigAsync(Configs.SingleRoute("eject.test", "round_robin", [dead, backend.Address],
            ""","passive_health":{"consecutive_failures":2,"ejection_time":"1m"}"""));
        for (var i = 0; i < 6; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Host = "eject.test";
            using var response = await lb.Proxy.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // every refused attempt was retried on the live target
        }
        var runtime = await lb.GetJsonAsync<JsonElement>("/api/runtime");
        var deadView = runtime.GetProperty("upstreams")[0].GetProperty("targets").EnumerateArray().Single(t => t.GetProperty("address").GetString() == dead);
        Assert.False(deadView.GetProperty("healthy").GetBoolean());
        Assert.True(deadView.TryGetProperty("ejected_until", out _));
        Assert.Equal(0, deadView.GetProperty("active_connections").GetInt32());
    }
}

public sealed class TlsAndHealthTestsOnYarpPath() : TlsAndHealthTests(ProxyPath.Yarp);

public sealed class TlsAndHealthTestsOnFastPath() : TlsAndHealthTests(ProxyPath.Fast);

public sealed class TlsAndHealthTestsOnLoopPath() : TlsAndHealthTests(ProxyPath.Loop);

/// <summary>The file store behind the reference server: what the admin API acknowledged is there after a restart.</summary>
public sealed class RestartDurabilityTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task An_acknowledged_write_survives_a_restart_of_the_node()
    {
        var dataDir = Path.Combine(_dir.Path, "data");
        await using (var first = await LbServer.StartAsync(dataDir: dataDir))
        {
            await first.PutConfigAsync(Configs.SingleRoute("keep.test", "round_robin", ["127.0.0.1:9"]));
        }
        await using var second = await LbServer.StartAsync(dataDir: dataDir);
        var config = await second.GetJsonAsync<JsonElement>("/api/config");
        Assert.Equal(1, config.GetProperty("version").GetInt64());
        Assert.Equal("r1", config.GetProperty("routes")[0].GetProperty("id").GetString());
        var status = await second.GetJsonAsync<JsonElement>("/api/status");
        Assert.Equal(1, status.GetProperty("runtime").GetProperty("route_count").GetInt32());
    }
}
