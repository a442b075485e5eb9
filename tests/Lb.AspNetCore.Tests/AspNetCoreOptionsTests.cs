using System.Text;
using Lb.AspNetCore.Options;
using Lb.Core.Admin;
using Lb.Core.Options;
using Lb.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Lb.AspNetCore.Tests;

public sealed class AspNetCoreOptionsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<string> StartFailureAsync(string appJson)
    {
        var values = new Dictionary<string, string?>(
            BootFile.ReadConfiguration(Encoding.UTF8.GetBytes(appJson), "app.json", [typeof(LbNodeOptions), typeof(AdminOptions), typeof(ProxyOptions)]))
        {
            ["Lb:RaftDataDir"] = _dir.Path,
        };
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddLoadBalancer(new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(BootFile.SectionName)).AddAspNetCore();
        using var host = builder.Build();
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        return ex.Message;
    }

    [Theory]
    [InlineData("""{"adminToken":"short"}""", "adminToken must be at least 16 characters")]
    [InlineData("""{"adminReadRequiresToken":true}""", "adminReadRequiresToken is set but adminToken is empty")]
    [InlineData("""{"trustedProxies":["10.0.0.0/33"]}""", "trustedProxies[0] '10.0.0.0/33'")]
    [InlineData("""{"proxyTlsCertificate":"/etc/hostname"}""", "proxyTlsCertificate and proxyTlsKey go together")]
    [InlineData("""{"proxyTlsCertificate":"/nonexistent/cert.pem","proxyTlsKey":"/nonexistent/key.pem"}""", "proxyTlsCertificate '/nonexistent/cert.pem' does not exist")]
    public async Task The_packages_own_keys_are_bound_from_app_json_and_checked_on_start(string appJson, string message) =>
        Assert.Contains(message, await StartFailureAsync(appJson), StringComparison.Ordinal);

    [Fact]
    public void A_wrong_kind_for_a_package_key_names_the_key()
    {
        var ex = Assert.Throws<BootFileException>(() =>
            BootFile.ReadConfiguration("""{"adminReadRequiresToken":"yes"}"""u8, "app.json", [typeof(LbNodeOptions), typeof(AdminOptions)]));
        Assert.Contains("invalid value at 'adminReadRequiresToken': expected true or false", ex.Message, StringComparison.Ordinal);
    }
}
