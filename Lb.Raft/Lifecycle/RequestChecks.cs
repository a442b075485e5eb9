using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Lb.Core.Admin;
using Lb.Raft.Node;

namespace Lb.Raft.Lifecycle;

/// <summary>The contract's request checks for the lifecycle endpoints, in its order and with its messages.</summary>
internal static partial class RequestChecks
{
    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex NodeIdPattern();

    public static bool TryParse<T>(ReadOnlyMemory<byte> body, JsonTypeInfo<T> typeInfo, out T value, out AdminResult? error)
        where T : class
    {
        value = null!;
        error = null;
        try
        {
            value = JsonSerializer.Deserialize(body.Span, typeInfo)!;
        }
        catch (JsonException)
        {
        }
        if (value is null)
        {
            error = AdminResult.Fail(400, "invalid JSON request body");
            return false;
        }
        return true;
    }

    public static AdminResult? NodeId(string nodeId) =>
        NodeIdPattern().IsMatch(nodeId) ? null
            : AdminResult.Fail(400, "node_id must contain only letters, numbers, dot, underscore, or hyphen", "invalid_node_id",
                [new AdminFieldError("node_id", $"'{nodeId}' has other characters", "invalid_node_id", "use e.g. node-1")]);

    /// <summary>Parses <c>host:port</c> and checks that the host resolves (the contract performs a DNS lookup).</summary>
    public static async Task<(EndPoint? EndPoint, AdminResult? Error)> AddressAsync(string field, string text, CancellationToken cancellationToken)
    {
        if (RaftAddress.TryParse(text, out var endPoint) && !(endPoint is IPEndPoint ip && (ip.Address.Equals(IPAddress.Any) || ip.Address.Equals(IPAddress.IPv6Any))))
        {
            if (endPoint is not DnsEndPoint dns)
            {
                return (endPoint, null);
            }
            try
            {
                if ((await Dns.GetHostAddressesAsync(dns.Host, cancellationToken).ConfigureAwait(false)).Length > 0)
                {
                    return (endPoint, null);
                }
            }
            catch (System.Net.Sockets.SocketException)
            {
                // Falls through to the contract's error.
            }
        }
        return (null, AdminResult.Fail(400, $"{field} must be a host:port TCP address", "invalid_raft_address",
            [new AdminFieldError(field, $"'{text}' is not a resolvable host:port", "invalid_raft_address", "give the address other nodes reach this node's Raft port at, e.g. 10.0.0.11:7000")]));
    }

    /// <summary>
    /// The VIP fields of bootstrap and join (contract §9.1): the node-local interface name and the cluster policy, each
    /// error with its field path and code <c>invalid_vip</c>; the first error's message is the answer's message.
    /// </summary>
    public static AdminResult? Vip(Lb.Core.Spec.VipPolicy? vip, string? vipInterface)
    {
        var errors = new List<AdminFieldError>();
        if (!string.IsNullOrEmpty(vipInterface)
            && (vipInterface.Length > 15 || vipInterface.Any(c => c is '/' or ' ' or ':' || char.IsControl(c))))
        {
            errors.Add(new AdminFieldError("vip_interface", "vip interface must be a Linux interface name", Lb.Core.Validation.VipPolicyValidator.InvalidVip,
                "at most 15 characters without '/', ':' or spaces, e.g. \"eth0\""));
        }
        if (vip is not null)
        {
            foreach (var e in Lb.Core.Validation.ClusterPolicyValidator.ValidateVip(vip).Errors)
            {
                errors.Add(new AdminFieldError(e.Field, e.Message, e.Code, e.Hint));
            }
        }
        return errors.Count == 0 ? null : AdminResult.Fail(400, errors[0].Message, Lb.Core.Validation.VipPolicyValidator.InvalidVip, errors);
    }
}
