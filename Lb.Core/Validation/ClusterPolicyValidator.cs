using System.Net;
using System.Net.Sockets;
using Lb.Core.Spec;

namespace Lb.Core.Validation;

/// <summary>
/// Checks the cluster-wide policies of the desired state: the VIP (seed contract §9.1, code <c>invalid_vip</c>) and
/// the Raft timing (§7.4, code <c>invalid_raft_timing</c>), in the contract's order and with its messages. Lb.Raft's
/// bootstrap handler answers 400 with the first error; a store answers 422 with all of them.
/// </summary>
public static class ClusterPolicyValidator
{
    private const string DurationHint = "use a Go duration such as \"200ms\" or \"2s\"";

    /// <summary>Validates a VIP policy; <paramref name="at"/> prefixes the field paths.</summary>
    public static ValidationResult ValidateVip(VipPolicy vip, string at = "vip")
    {
        ArgumentNullException.ThrowIfNull(vip);
        var errors = new List<ValidationError>();
        if (!IPNetwork.TryParse(vip.Address ?? "", out var network) || !(vip.Address ?? "").Contains('/', StringComparison.Ordinal))
        {
            errors.Add(Vip($"{at}.address", "vip address must be CIDR", "write the address with its prefix length, e.g. \"10.0.0.100/24\""));
        }
        else if (network.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
        {
            errors.Add(Vip($"{at}.address", "vip address must be IPv4", "gratuitous ARP only exists for IPv4; use an IPv4 address such as \"10.0.0.100/24\""));
        }
        if (vip.GarpCount is < 0)
        {
            errors.Add(Vip($"{at}.garp_count", "vip garp count must be at least 1", "omit it (or use 0) for the default of 5"));
        }
        if (vip.GarpInterval is { } interval && !IsNonNegativeDuration(interval))
        {
            errors.Add(Vip($"{at}.garp_interval", "vip garp interval must be a duration", DurationHint));
        }
        if (vip.AcquireDelay is { } delay && !IsNonNegativeDuration(delay))
        {
            errors.Add(Vip($"{at}.acquire_delay", "vip acquire delay must be a duration", DurationHint));
        }
        return errors.Count == 0 ? ValidationResult.Valid : new ValidationResult(errors);
    }

    /// <summary>
    /// Validates a Raft timing policy: each value set must be a positive duration, election ≥ heartbeat and
    /// lease ≤ heartbeat; then the values merged with <paramref name="defaults"/> must be ones Raft can run with.
    /// </summary>
    public static ValidationResult ValidateRaftTiming(RaftTimingPolicy timing, RaftTimingDefaults? defaults = null, string at = "raft_timing")
    {
        ArgumentNullException.ThrowIfNull(timing);
        var d = defaults ?? RaftTimingDefaults.Reference;
        var errors = new List<ValidationError>();
        var heartbeat = Positive(timing.HeartbeatTimeout, $"{at}.heartbeat_timeout", "raft heartbeat timeout must be a positive duration", errors);
        var election = Positive(timing.ElectionTimeout, $"{at}.election_timeout", "raft election timeout must be a positive duration", errors);
        var lease = Positive(timing.LeaderLeaseTimeout, $"{at}.leader_lease_timeout", "raft leader lease timeout must be a positive duration", errors);
        var commit = Positive(timing.CommitTimeout, $"{at}.commit_timeout", "raft commit timeout must be a positive duration", errors);
        if (errors.Count > 0)
        {
            return new ValidationResult(errors);
        }
        if (heartbeat is { } h1 && election is { } e1 && e1 < h1)
        {
            errors.Add(Timing($"{at}.election_timeout", "raft election timeout must be greater than or equal to heartbeat timeout", "raise election_timeout or lower heartbeat_timeout"));
        }
        if (heartbeat is { } h2 && lease is { } l2 && l2 > h2)
        {
            errors.Add(Timing($"{at}.leader_lease_timeout", "raft leader lease timeout must be less than or equal to heartbeat timeout", "lower leader_lease_timeout or raise heartbeat_timeout"));
        }
        if (errors.Count > 0)
        {
            return new ValidationResult(errors);
        }

        // The values Raft will run with: the policy over the node's defaults.
        var eh = heartbeat ?? d.HeartbeatTimeout;
        var ee = election ?? d.ElectionTimeout;
        var el = lease ?? d.LeaderLeaseTimeout;
        var ec = commit ?? d.CommitTimeout;
        Minimum($"{at}.heartbeat_timeout", "heartbeat", eh, d.MinimumTimeout, errors);
        Minimum($"{at}.election_timeout", "election", ee, d.MinimumTimeout, errors);
        Minimum($"{at}.leader_lease_timeout", "leader lease", el, d.MinimumTimeout, errors);
        Minimum($"{at}.commit_timeout", "commit", ec, d.MinimumCommitTimeout, errors);
        if (ee < eh)
        {
            errors.Add(Timing($"{at}.election_timeout",
                $"raft election timeout {Show(ee, election)} must be greater than or equal to heartbeat timeout {Show(eh, heartbeat)}",
                "set election_timeout too, at least as long as heartbeat_timeout (e.g. 2500ms / 4s / 2s / 250ms)"));
        }
        if (el > eh)
        {
            errors.Add(Timing($"{at}.leader_lease_timeout",
                $"raft leader lease timeout {Show(el, lease)} must be less than or equal to heartbeat timeout {Show(eh, heartbeat)}",
                "set leader_lease_timeout too, at most as long as heartbeat_timeout"));
        }
        return errors.Count == 0 ? ValidationResult.Valid : new ValidationResult(errors);
    }

    private static TimeSpan? Positive(string? text, string field, string message, List<ValidationError> errors)
    {
        if (text is null)
        {
            return null;
        }
        if (!GoDuration.TryParse(text, out var value, out _) || value <= TimeSpan.Zero)
        {
            errors.Add(Timing(field, message, DurationHint));
            return null;
        }
        return value;
    }

    private static void Minimum(string field, string name, TimeSpan value, TimeSpan minimum, List<ValidationError> errors)
    {
        if (value < minimum)
        {
            errors.Add(Timing(field, $"raft {name} timeout must be at least {GoDuration.Format(minimum)}", $"use {GoDuration.Format(minimum)} or more"));
        }
    }

    private static string Show(TimeSpan value, TimeSpan? given) => GoDuration.Format(value) + (given is null ? " (default)" : "");

    private static bool IsNonNegativeDuration(string text) => GoDuration.TryParse(text, out var value, out _) && value >= TimeSpan.Zero;

    private static ValidationError Vip(string field, string message, string hint) => new(field, ValidationCodes.InvalidVip, message, hint);

    private static ValidationError Timing(string field, string message, string hint) => new(field, ValidationCodes.InvalidRaftTiming, message, hint);
}
