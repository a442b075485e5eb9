namespace Lb.Core.Options;

/// <summary>
/// How one node starts: listeners, data directory and identity. Read from <c>app.json</c> (or any configuration
/// section); never replicated. Empty strings take the defaults. Packages own their other keys (Lb.AspNetCore:
/// <c>AdminOptions</c>, <c>ProxyOptions</c>), bound from the same section.
/// </summary>
public sealed class LbNodeOptions
{
    /// <summary>Default of <see cref="ProxyListenAddr"/>.</summary>
    public const string DefaultProxyListenAddr = ":8080";

    /// <summary>Default of <see cref="DashboardListenAddr"/>.</summary>
    public const string DefaultDashboardListenAddr = ":9090";

    /// <summary>Default of <see cref="DataDir"/>.</summary>
    public const string DefaultDataDir = "data";

    /// <summary>Default of <see cref="NodeHeader"/>.</summary>
    public const string DefaultNodeHeader = "X-Lb-Node";

    /// <summary>Default of <see cref="DrainTimeout"/>.</summary>
    public const string DefaultDrainTimeout = "10s";

    /// <summary>Proxy listener, Go style <c>host:port</c>; an empty host means all interfaces.</summary>
    public string ProxyListenAddr { get; set; } = DefaultProxyListenAddr;

    /// <summary>Admin API and dashboard listener, Go style <c>host:port</c>.</summary>
    public string DashboardListenAddr { get; set; } = DefaultDashboardListenAddr;

    /// <summary>
    /// The node's data directory (desired state now; the Raft log and node identity with clustering); relative to
    /// the working directory. Empty: <see cref="RaftDataDir"/> if set, else <c>data</c>.
    /// </summary>
    public string DataDir { get; set; } = "";

    /// <summary>The reference's name for <see cref="DataDir"/>, still accepted; <see cref="DataDir"/> wins when both are set.</summary>
    public string RaftDataDir { get; set; } = "";

    /// <summary>Node id (letters, digits, <c>.</c>, <c>_</c>, <c>-</c>); also sent upstream in <see cref="NodeHeader"/>.</summary>
    public string NodeId { get; set; } = "";

    /// <summary>Request header that tells upstreams which node proxied the request (<c>X-AjouLB-LB-Node</c> for the reference's backends).</summary>
    public string NodeHeader { get; set; } = DefaultNodeHeader;

    /// <summary>Address the Raft transport binds, <c>host:port</c> (Raft issue).</summary>
    public string RaftListenAddr { get; set; } = "";

    /// <summary>Address other nodes reach this node's Raft transport at, <c>host:port</c> (Raft issue).</summary>
    public string RaftAdvertiseAddr { get; set; } = "";

    /// <summary>
    /// PEM certificate (chain) this node presents on the Raft port. With <see cref="RaftTlsKey"/> and
    /// <see cref="RaftTlsCa"/> the Raft port speaks mutual TLS; all three or none.
    /// </summary>
    public string RaftTlsCertificate { get; set; } = "";

    /// <summary>PEM private key matching <see cref="RaftTlsCertificate"/>.</summary>
    public string RaftTlsKey { get; set; } = "";

    /// <summary>PEM certificate of the cluster CA: the only trust anchor for the certificates of the other members.</summary>
    public string RaftTlsCa { get; set; } = "";

    /// <summary>Network interface that carries the cluster VIP on this node (VIP issue).</summary>
    public string VipInterface { get; set; } = "";

    /// <summary>
    /// The cluster VIP as IPv4 CIDR (e.g. <c>10.0.0.100/24</c>) when it is not (yet) in the replicated state; the
    /// replicated VIP policy wins over it. Needs <see cref="VipInterface"/>.
    /// </summary>
    public string VipAddress { get; set; } = "";

    /// <summary>How many applied configuration versions the store keeps for history and rollback (1–10000).</summary>
    public int ConfigHistoryLimit { get; set; } = Lb.Core.Store.DesiredStateHistoryExtensions.DefaultLimit;

    /// <summary>
    /// On SIGTERM/SIGINT the node stops accepting connections and lets requests in flight finish for at most this long
    /// (Go duration, e.g. <c>"30s"</c>) before it cuts them and exits.
    /// </summary>
    public string DrainTimeout { get; set; } = DefaultDrainTimeout;

    /// <summary>
    /// Most client connections the proxy listener holds open at once; more are closed at accept. 0: derived from the
    /// process's descriptor limit (RLIMIT_NOFILE) with headroom for upstream connections, probes and the store.
    /// </summary>
    public int MaxProxyConnections { get; set; }

    /// <summary>Most connections the admin listener holds open at once, a budget separate from the proxy's. 0: 64.</summary>
    public int MaxAdminConnections { get; set; }

    /// <summary>How long an idle client connection is kept open between requests, Go duration. Empty: <see cref="DefaultKeepAliveTimeout"/>.</summary>
    public string KeepAliveTimeout { get; set; } = "";

    /// <summary>Default of <see cref="KeepAliveTimeout"/> (nginx's <c>keepalive_timeout</c> default).</summary>
    public const string DefaultKeepAliveTimeout = "75s";

    /// <summary>Fills empty values with the defaults, as the reference does.</summary>
    public void ApplyDefaults()
    {
        if (string.IsNullOrWhiteSpace(ProxyListenAddr))
        {
            ProxyListenAddr = DefaultProxyListenAddr;
        }
        if (string.IsNullOrWhiteSpace(DashboardListenAddr))
        {
            DashboardListenAddr = DefaultDashboardListenAddr;
        }
        if (string.IsNullOrWhiteSpace(KeepAliveTimeout))
        {
            KeepAliveTimeout = DefaultKeepAliveTimeout;
        }
        if (string.IsNullOrWhiteSpace(DataDir))
        {
            DataDir = string.IsNullOrWhiteSpace(RaftDataDir) ? DefaultDataDir : RaftDataDir;
        }
        if (string.IsNullOrWhiteSpace(NodeHeader))
        {
            NodeHeader = DefaultNodeHeader;
        }
        if (string.IsNullOrWhiteSpace(DrainTimeout))
        {
            DrainTimeout = DefaultDrainTimeout;
        }
    }
}
