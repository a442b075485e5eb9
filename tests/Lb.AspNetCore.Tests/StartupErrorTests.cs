using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Lb.AspNetCore.Tests;

/// <summary>A host that maps the proxy without registering it fails at startup with the line to add, not a DI error.</summary>
public sealed class StartupErrorTests
{
    [Fact]
    public async Task Mapping_the_proxy_after_AddLoadBalancer_alone_names_AddAspNetCore()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddLoadBalancer();
        await using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapLoadBalancer());
        Assert.Contains("MapLoadBalancer()", error.Message, StringComparison.Ordinal);
        Assert.Contains(".AddAspNetCore()", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mapping_the_admin_api_with_nothing_registered_names_the_whole_registration()
    {
        var builder = WebApplication.CreateSlimBuilder();
        await using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapLoadBalancerAdmin());
        Assert.Contains("builder.Services.AddLoadBalancer(builder.Configuration.GetSection(\"Lb\")).AddAspNetCore();", error.Message, StringComparison.Ordinal);
    }
}
