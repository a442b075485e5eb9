using Lb.Core.DependencyInjection;
using Lb.TestSupport;

namespace Lb.AspNetCore.Tests;

/// <summary>
/// The proxy suite's one parameterisation (as in Lb.IntegrationTests): a test class that proxies is abstract, derives
/// from this with the path it is given, starts its host through <see cref="StartLbAsync"/>, and runs through two sealed
/// subclasses declared after it, <c>XOnYarpPath</c> and <c>XOnFastPath</c>.
/// </summary>
public abstract class ProxyPathTests(ProxyPath path)
{
    /// <summary>The path this instance tests.</summary>
    public ProxyPath TestedPath => path;

    private protected Task<InProcessLb> StartLbAsync(Action<ILoadBalancerBuilder>? configure = null, string? dataDirectory = null,
        Action<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>? kestrel = null) =>
        InProcessLb.StartAsync(configure, dataDirectory, path, kestrel);
}
