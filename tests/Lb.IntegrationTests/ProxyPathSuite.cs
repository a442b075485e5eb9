using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>
/// The one parameterisation of the proxy suite: a proxy test class is abstract, derives from this with the path it is
/// given, starts its nodes through <see cref="StartLbAsync"/>, and is run by two sealed subclasses declared right after
/// it, <c>XOnYarpPath</c> and <c>XOnFastPath</c>. A test added to the abstract class therefore covers both paths;
/// <c>--filter-class "*OnFastPath"</c> runs one side.
/// </summary>
public abstract class ProxyPathTests(ProxyPath path)
{
    /// <summary>The path this instance tests.</summary>
    public ProxyPath TestedPath => path;

    /// <summary>Starts the reference server with <see cref="TestedPath"/> selected; the other arguments as <see cref="LbServer.StartAsync"/>.</summary>
    private protected Task<LbServer> StartLbAsync(Action<Lb.Core.Options.LbNodeOptions>? configure = null, string? dataDir = null, Action<Lb.AspNetCore.Options.ProxyOptions>? proxy = null) =>
        LbServer.StartAsync(configure, dataDir, proxy: proxy, path: path);

    /// <summary>The boot-file key that selects <see cref="TestedPath"/>, for nodes run as a process (<c>,"fastPath":…</c>).</summary>
    private protected string FastPathKey => path == ProxyPath.Fast ? ",\"fastPath\":true" : ",\"fastPath\":false";
}
