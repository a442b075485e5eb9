using Lb.Core.Spec;

namespace Lb.Core.Validation;

/// <summary>
/// Checks a cluster VIP policy (bootstrap requests, replicated state): every error carries the field path, the code
/// <see cref="InvalidVip"/> (the API answers 400) and the reference's message.
/// </summary>
public static class VipPolicyValidator
{
    /// <summary>The code of every VIP policy error.</summary>
    public const string InvalidVip = "invalid_vip";

    /// <summary>Returns every problem in <paramref name="policy"/>; <paramref name="prefix"/> starts each field path.</summary>
    public static IReadOnlyList<ValidationError> Validate(VipPolicy policy, string prefix = "vip")
    {
        ArgumentNullException.ThrowIfNull(policy);
        var errors = new List<ValidationError>();
        if (string.IsNullOrEmpty(policy.Address))
        {
            errors.Add(new($"{prefix}.address", InvalidVip, "vip address is required",
                "give the VIP as an IPv4 address with the prefix length of its subnet, e.g. \"10.0.0.100/24\""));
        }
        else if (!VipCidr.TryParse(policy.Address, out _, out var cidrError))
        {
            errors.Add(new($"{prefix}.address", InvalidVip, cidrError,
                "give the VIP as an IPv4 address with the prefix length of its subnet, e.g. \"10.0.0.100/24\""));
        }
        if (policy.GarpCount is < 0)
        {
            errors.Add(new($"{prefix}.garp_count", InvalidVip, "vip garp count must be at least 1",
                "omit it (or 0) for the default, or give a small positive count such as 3"));
        }
        CheckDuration(errors, $"{prefix}.garp_interval", policy.GarpInterval, "vip garp interval must be a duration");
        CheckDuration(errors, $"{prefix}.acquire_delay", policy.AcquireDelay, "vip acquire delay must be a duration");
        return errors;
    }

    private static void CheckDuration(List<ValidationError> errors, string field, string? value, string message)
    {
        if (value is null)
        {
            return;
        }
        if (!GoDuration.TryParse(value, out var duration, out _))
        {
            errors.Add(new(field, InvalidVip, message, "use a Go duration such as \"100ms\" or \"1s\""));
        }
        else if (duration < TimeSpan.Zero)
        {
            errors.Add(new(field, InvalidVip, $"{message} of zero or more", "use \"0s\" or a positive duration such as \"100ms\""));
        }
    }
}
