using System.Net;
using Lb.Core.Admin;
using Lb.Core.Node;
using Lb.Core.Options;
using Lb.Core.Validation;
using Lb.Raft.Node;
using Lb.Raft.Timing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lb.Raft.Store;

/// <summary>Starts Raft stores: fresh ones for bootstrap and join, and the recorded one when a member restarts.</summary>
internal sealed class RaftStoreFactory(
    IOptions<LbNodeOptions> nodeOptions,
    IOptions<AdminOptions> adminOptions,
    IOptions<RaftStoreOptions> raftOptions,
    ILoggerFactory loggers,
    TimeProvider time,
    IDesiredStateValidator validator) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(1) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public HttpClient Http => _http;

    public LbNodeOptions Node => nodeOptions.Value;

    public TimeProvider Time => time;

    /// <summary>The admin token cluster members present to each other (empty: none configured).</summary>
    public string AdminToken => adminOptions.Value.AdminToken;

    public async Task<RaftDesiredStateStore> StartAsync(string dataDirectory, string nodeId, EndPoint bind, EndPoint advertise, string? adminUrl,
        bool coldStart, RaftTiming? timing, bool standby, CancellationToken cancellationToken)
    {
        var settings = new RaftNodeSettings
        {
            DataDirectory = dataDirectory,
            NodeId = nodeId,
            Bind = bind,
            Advertise = advertise,
            AdminUrl = adminUrl,
            ColdStart = coldStart,
            Timing = timing,
            Standby = standby,
            Validator = validator,
            SnapshotEvery = raftOptions.Value.SnapshotEvery,
            HistoryLimit = nodeOptions.Value.ConfigHistoryLimit,
            Tls = RaftTlsFiles.From(nodeOptions.Value),
        };
        if (adminUrl is not null)
        {
            Directory.CreateDirectory(dataDirectory);
            await File.WriteAllTextAsync(settings.AdminUrlFile, adminUrl, cancellationToken).ConfigureAwait(false);
        }
        var node = await RaftNode.StartAsync(settings, loggers, time, cancellationToken).ConfigureAwait(false);
        return new RaftDesiredStateStore(node, new HttpPeerClient(_http, adminOptions.Value.AdminToken),
            loggers.CreateLogger("Lb.Raft.Store"), time, raftOptions.Value.WriteTimeout, nodeOptions.Value.DataDir);
    }

    /// <summary>Reopens the store of a restarted member from its recorded identity; blocks until Raft runs.</summary>
    public RaftDesiredStateStore OpenExisting(NodeDataDirectory directory)
    {
        var identity = directory.Identity ?? throw new InvalidOperationException($"'{directory.PathOf(NodeDataDirectory.NodeFileName)}' has no identity.");
        if (!RaftAddress.TryParse(identity.AdvertiseAddr, out var advertise))
        {
            throw new InvalidOperationException($"'{directory.PathOf(NodeDataDirectory.NodeFileName)}': advertise_addr '{identity.AdvertiseAddr}' is not host:port.");
        }
        var bind = RaftAddress.TryParse(identity.BindAddr, out var b) ? b : new IPEndPoint(IPAddress.Any, Port(advertise));
        var adminUrlFile = Path.Combine(directory.Path, "raft-admin-url");
        var adminUrl = AdminUrls.FromListenAddress(nodeOptions.Value.DashboardListenAddr, advertise)
            ?? (File.Exists(adminUrlFile) ? File.ReadAllText(adminUrlFile).Trim() : null);
        var standby = File.Exists(Path.Combine(directory.Path, "raft-removed"));
        return StartAsync(directory.Path, identity.NodeId, bind, advertise, adminUrl, coldStart: false, timing: null, standby, CancellationToken.None)
            .GetAwaiter().GetResult();
    }

    private static int Port(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => ip.Port,
        DnsEndPoint dns => dns.Port,
        _ => 7000,
    };

    public void Dispose() => _http.Dispose();
}
