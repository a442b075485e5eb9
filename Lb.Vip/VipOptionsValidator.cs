using Microsoft.Extensions.Options;

namespace Lb.Vip;

/// <summary>Checks <see cref="VipOptions"/> on start; messages name the option and the fix.</summary>
internal sealed class VipOptionsValidator : IValidateOptions<VipOptions>
{
    public ValidateOptionsResult Validate(string? name, VipOptions options)
    {
        var failures = new List<string>();
        if (options.GarpCount is < 1 or > 100)
        {
            failures.Add($"GarpCount {options.GarpCount} must be between 1 and 100 (default 3)");
        }
        if (options.GarpInterval < TimeSpan.Zero || options.GarpInterval > TimeSpan.FromSeconds(10))
        {
            failures.Add($"GarpInterval {options.GarpInterval} must be between 0 and 10 s (default 100 ms)");
        }
        if (options.AcquireDelay < TimeSpan.Zero)
        {
            failures.Add($"AcquireDelay {options.AcquireDelay} must not be negative (default 0: the leader lease makes a wait unnecessary)");
        }
        if (options.AddressLifetime != Timeout.InfiniteTimeSpan && options.AddressLifetime < TimeSpan.FromSeconds(1))
        {
            failures.Add($"AddressLifetime {options.AddressLifetime} must be at least 1 s, or Timeout.InfiniteTimeSpan for a permanent address (default 1 s)");
        }
        if (options.RetryInterval <= TimeSpan.Zero)
        {
            failures.Add($"RetryInterval {options.RetryInterval} must be positive (default 2 s)");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
