using System.Text.Json.Serialization;

namespace Lb.Core.Spec;

/// <summary>
/// A TCP (layer 4) listener (Lb extension): accepts connections on <see cref="Listen"/> and relays their bytes to a
/// target of <see cref="UpstreamPool"/>, picked by <see cref="Algorithm"/> from the same pools HTTP routes use.
/// </summary>
public sealed record TcpListenerSpec
{
    /// <summary>Unique listener id (case-sensitive).</summary>
    public string Id { get; init; } = "";

    /// <summary>Disabled listeners hold no socket. Missing in JSON means <c>false</c>, as for routes.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public bool Enabled { get; init; }

    /// <summary><c>ip:port</c>, <c>[ipv6]:port</c>, <c>localhost:port</c> or <c>*:port</c> (every interface); port 0 binds an ephemeral port.</summary>
    public string Listen { get; init; } = "";

    /// <summary>Id of the pool in <see cref="ProxyConfig.UpstreamPools"/> whose targets receive the connections.</summary>
    public string UpstreamPool { get; init; } = "";

    /// <summary><c>round_robin</c> (default), <c>least_connection</c> or <c>source</c> (<see cref="TcpAlgorithms"/>).</summary>
    public string? Algorithm { get; init; }

    /// <summary>Time to connect to a target, as a Go duration; absent means the pool's <c>connect_timeout</c>.</summary>
    public string? ConnectTimeout { get; init; }

    /// <summary>A connection with no bytes in either direction for this long is closed on both sides (Go duration; default 5m).</summary>
    public string? IdleTimeout { get; init; }

    /// <summary>Open connections the listener serves at once; further ones are accepted and closed at once (default 10000).</summary>
    public int? MaxConnections { get; init; }

    /// <summary>
    /// <c>v1</c> or <c>v2</c>: each connection to a target starts with a PROXY protocol header of that version carrying
    /// the client's address; absent sends none.
    /// </summary>
    public string? SendProxy { get; init; }

    /// <summary>The algorithm with the empty default resolved.</summary>
    [JsonIgnore]
    public string EffectiveAlgorithm => string.IsNullOrEmpty(Algorithm) ? TcpAlgorithms.RoundRobin : Algorithm;

    /// <summary>Default of <see cref="IdleTimeout"/>.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Default of <see cref="MaxConnections"/>.</summary>
    public const int DefaultMaxConnections = 10_000;
}

/// <summary>The balancing algorithms a TCP listener accepts.</summary>
public static class TcpAlgorithms
{
    /// <summary>Cycles through available targets (the default).</summary>
    public const string RoundRobin = Algorithms.RoundRobin;
    /// <summary>The available target with the fewest open connections.</summary>
    public const string LeastConnection = Algorithms.LeastConnection;
    /// <summary>Consistent hash of the client address: a client keeps its target while that target is available.</summary>
    public const string Source = "source";

    /// <summary>Every name accepted in <see cref="TcpListenerSpec.Algorithm"/>.</summary>
    public static IReadOnlyList<string> All { get; } = [RoundRobin, LeastConnection, Source];
}

/// <summary>The PROXY protocol versions a TCP listener can send (<see cref="TcpListenerSpec.SendProxy"/>).</summary>
public static class ProxyProtocolVersions
{
    /// <summary>The human-readable header: <c>PROXY TCP4 src dst sport dport\r\n</c>.</summary>
    public const string V1 = "v1";
    /// <summary>The binary header.</summary>
    public const string V2 = "v2";
}
