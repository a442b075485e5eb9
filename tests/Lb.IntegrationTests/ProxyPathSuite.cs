using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>
/// The one parameterisation of the proxy suite: a proxy test class is abstract, derives from this with the path it is
/// given, starts its nodes through <see cref="StartLbAsync"/>, and is run by two sealed subclasses declared right after
/// it, <c>XOnYarpPath</c>, <c>XOnFastPath</c> and <c>XOnLoopPath</c> (the fast path on Lb's I/O loop). A test added to
/// the abstract class therefore covers every path; <c>--filter-class "*OnFastPath"</c> runs one.
/// </summary>
public abstract class ProxyPathTests(ProxyPath path)
{
    /// <summary>The path this instance tests.</summary>
    public ProxyPath TestedPath => path;

    /// <summary>Starts the reference server with <see cref="TestedPath"/> selected; the other arguments as <see cref="LbServer.StartAsync"/>.</summary>
    private protected Task<LbServer> StartLbAsync(Action<Lb.Core.Options.LbNodeOptions>? configure = null, string? dataDir = null, Action<Lb.AspNetCore.Options.ProxyOptions>? proxy = null) =>
        LbServer.StartAsync(configure, dataDir, proxy: proxy, path: path);

    /// <summary>The boot-file key that selects <see cref="TestedPath"/>, for nodes run as a process (<c>,"fastPath":…</c>).</summary>
    private protected string FastPathKey => path switch
    {
        ProxyPath.Fast => ",\"fastPath\":true,\"ioLoop\":false",
        ProxyPath.Loop => ",\"fastPath\":true,\"ioLoop\":true",
        _ => ",\"fastPath\":false",
    };
}
