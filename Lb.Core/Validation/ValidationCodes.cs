namespace Lb.Core.Validation;

/// <summary>Machine-readable validation codes. Stable: clients may switch on them.</summary>
public static class ValidationCodes
{
#pragma warning disable CS1591 // The names say what they mean; the messages carry the detail.
    public const string PoolIdEmpty = "pool_id_empty";
    public const string InvalidPoolId = "invalid_pool_id";
    public const string UpstreamsEmpty = "upstreams_empty";
    public const string UpstreamEmpty = "upstream_empty";
    public const string InvalidUpstream = "invalid_upstream";
    public const string InvalidUpstreamHost = "invalid_upstream_host";
    public const string InvalidPort = "invalid_port";
    public const string DuplicateUpstream = "duplicate_upstream";
    public const string InvalidWeight = "invalid_weight";
    public const string InvalidHealthPath = "invalid_health_check_path";
    public const string InvalidDuration = "invalid_duration";
    public const string NonPositiveDuration = "non_positive_duration";
    public const string TimeoutNotBelowInterval = "timeout_not_below_interval";
    public const string InvalidExpectStatus = "invalid_expect_status";
    /// <summary>health_check.type is not http or tcp.</summary>
    public const string InvalidHealthCheckType = "invalid_health_check_type";
    public const string InvalidThreshold = "invalid_threshold";
    public const string RouteIdEmpty = "route_id_empty";
    public const string InvalidRouteId = "invalid_route_id";
    public const string DuplicateRouteId = "duplicate_route_id";
    public const string HostEmpty = "host_empty";
    public const string InvalidHost = "invalid_host";
    public const string HostHasPort = "host_has_port";
    public const string DuplicateHost = "duplicate_host";
    public const string PathValueEmpty = "path_value_empty";
    public const string InvalidPathType = "invalid_path_type";
    public const string InvalidExactPath = "invalid_exact_path";
    public const string InvalidPrefixPath = "invalid_prefix_path";
    public const string InvalidRegex = "invalid_regex";
    public const string UnknownAlgorithm = "unknown_algorithm";
    public const string UpstreamPoolEmpty = "upstream_pool_empty";
    public const string UnknownUpstreamPool = "unknown_upstream_pool";
    public const string InvalidStickyCookie = "invalid_sticky_cookie";
    /// <summary>hash_key is missing where the algorithm needs it, malformed, or set where the algorithm reads none.</summary>
    public const string InvalidHashKey = "invalid_hash_key";
    /// <summary>An upstream state is not ready, drain or maint.</summary>
    public const string InvalidTargetState = "invalid_target_state";
    /// <summary>A connection, queue or request-size limit is out of range or has no effect.</summary>
    public const string InvalidLimit = "invalid_limit";
    public const string TooMany = "too_many";
    public const string TooLong = "too_long";
    public const string InvalidVip = "invalid_vip";
    public const string InvalidRaftTiming = "invalid_raft_timing";
    public const string InvalidStickySecret = "invalid_sticky_secret";
    public const string TcpListenerIdEmpty = "tcp_listener_id_empty";
    public const string InvalidTcpListenerId = "invalid_tcp_listener_id";
    public const string DuplicateTcpListenerId = "duplicate_tcp_listener_id";
    public const string InvalidListenAddress = "invalid_listen_address";
    public const string DuplicateListenAddress = "duplicate_listen_address";
    public const string InvalidMaxConnections = "invalid_max_connections";
    public const string InvalidSendProxy = "invalid_send_proxy";
#pragma warning restore CS1591
}
