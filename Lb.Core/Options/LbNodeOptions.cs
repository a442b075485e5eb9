namespace Lb.Core.Options;

/// <summary>
/// How one node starts: listeners, data directory, identity and admin access. Read from <c>app.json</c> (or any
/// configuration section); never replicated. Empty strings take the defaults.
/// </summary>
public sealed class LbNodeOptions
{
    /// <summary>Default of <see cref="ProxyListenAddr"/>.</summary>
    public const string DefaultProxyListenAddr = ":8080";

    /// <summary>Default of <see cref="DashboardListenAddr"/>.</summary>
    public const string DefaultDashboardListenAddr = ":9090";

    /// <summary>Default of <see cref="RaftDataDir"/>.</summary>
    public const string DefaultRaftDataDir = "data/raft";

    /// <summary>Proxy listener, Go style <c>host:port</c>; an empty host means all interfaces.</summary>
    public string ProxyListenAddr { get; set; } = DefaultProxyListenAddr;

    /// <summary>Admin API and dashboard listener, Go style <c>host:port</c>.</summary>
    public string DashboardListenAddr { get; set; } = DefaultDashboardListenAddr;

    /// <summary>The node's data directory (desired state, Raft log, node identity); relative to the working directory.</summary>
    public string RaftDataDir { get; set; } = DefaultRaftDataDir;

    /// <summary>Node id (letters, digits, <c>.</c>, <c>_</c>, <c>-</c>); also sent upstream as <c>X-AjouLB-LB-Node</c>.</summary>
    public string NodeId { get; set; } = "";

    /// <summary>Address the Raft transport binds, <c>host:port</c> (Raft issue).</summary>
    public string RaftListenAddr { get; set; } = "";

    /// <summary>Address other nodes reach this node's Raft transport at, <c>host:port</c> (Raft issue).</summary>
    public string RaftAdvertiseAddr { get; set; } = "";

    /// <summary>Bearer token required for admin writes when set (at least 16 characters).</summary>
    public string AdminToken { get; set; } = "";

    /// <summary>Also require <see cref="AdminToken"/> for admin reads.</summary>
    public bool AdminReadRequiresToken { get; set; }

    /// <summary>Network interface that carries the cluster VIP on this node (VIP issue).</summary>
    public string VipInterface { get; set; } = "";

    /// <summary>
    /// Addresses or CIDR ranges of proxies in front of Lb whose <c>X-Forwarded-For</c>/<c>Forwarded</c> headers are
    /// believed. Empty: forwarding headers never choose the client address (they cannot be spoofed).
    /// </summary>
    public IList<string> TrustedProxies { get; set; } = [];

    /// <summary>
    /// PEM certificate (chain) file for TLS on the proxy listener. With <see cref="ProxyTlsKey"/> set too, the proxy
    /// speaks HTTPS and offers HTTP/2 to clients (ALPN); without, plain HTTP/1.1.
    /// </summary>
    public string ProxyTlsCertificate { get; set; } = "";

    /// <summary>PEM private key file matching <see cref="ProxyTlsCertificate"/>.</summary>
    public string ProxyTlsKey { get; set; } = "";

    /// <summary>Log one line per proxied request (category <c>Lb.AccessLog</c>, level Information). Off by default: it costs CPU.</summary>
    public bool AccessLog { get; set; }

    /// <summary>How many applied configuration versions the store keeps for history and rollback (1–10000).</summary>
    public int ConfigHistoryLimit { get; set; } = Lb.Core.Store.DesiredStateHistoryExtensions.DefaultLimit;

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
        if (string.IsNullOrWhiteSpace(RaftDataDir))
        {
            RaftDataDir = DefaultRaftDataDir;
        }
    }
}
