using Lb.Core.Spec;

namespace Lb.Core.Validation;

/// <summary>
/// The one validation every store applies before it accepts a state (the file store before it writes, the Raft
/// store before it proposes and again when it applies), so no store accepts what another refuses. Covers the proxy
/// configuration and the cluster policies (VIP, Raft timing).
/// </summary>
public interface IDesiredStateValidator
{
    /// <summary>Every problem in <paramref name="state"/> (normalised), with field paths, codes and hints.</summary>
    ValidationResult Validate(DesiredState state);
}

/// <summary>
/// A validator that can check a <see cref="ConfigChange"/> against the valid state it applies to without validating
/// everything that did not change (a one-route edit of a large configuration).
/// </summary>
public interface IDesiredStateChangeValidator : IDesiredStateValidator
{
    /// <summary>
    /// Every problem <paramref name="next"/> has that <paramref name="previous"/> (valid) did not: the same verdict as
    /// <see cref="IDesiredStateValidator.Validate"/> of <paramref name="next"/>.
    /// </summary>
    ValidationResult ValidateChange(DesiredState previous, DesiredState next, ConfigChange change);
}

/// <summary>Validation helpers over any <see cref="IDesiredStateValidator"/>.</summary>
public static class DesiredStateValidatorExtensions
{
    /// <summary>Validates only the change when <paramref name="validator"/> can, the whole of <paramref name="next"/> otherwise.</summary>
    public static ValidationResult ValidateChange(this IDesiredStateValidator validator, DesiredState previous, DesiredState next, ConfigChange change)
    {
        ArgumentNullException.ThrowIfNull(validator);
        return validator is IDesiredStateChangeValidator incremental ? incremental.ValidateChange(previous, next, change) : validator.Validate(next);
    }
}

/// <summary>
/// The default validator: <see cref="DesiredStateValidator"/> with the node's limits, Raft timing defaults and
/// registered balancing algorithms.
/// </summary>
public sealed class DefaultDesiredStateValidator : IDesiredStateChangeValidator
{
    private readonly DesiredStateLimits _limits;
    private readonly RaftTimingDefaults _raftDefaults;
    private readonly IAlgorithmRules? _algorithms;

    /// <summary>Creates the validator; null arguments take the defaults (the contract's four algorithms).</summary>
    public DefaultDesiredStateValidator(DesiredStateLimits? limits = null, RaftTimingDefaults? raftDefaults = null, IAlgorithmRules? algorithms = null)
    {
        _limits = limits ?? DesiredStateLimits.Default;
        _raftDefaults = raftDefaults ?? RaftTimingDefaults.Reference;
        _algorithms = algorithms;
    }

    /// <summary>The default validator with default limits.</summary>
    public static DefaultDesiredStateValidator Instance { get; } = new();

    /// <inheritdoc />
    public ValidationResult Validate(DesiredState state) => DesiredStateValidator.Validate(state, _limits, _raftDefaults, _algorithms);

    /// <inheritdoc />
    public ValidationResult ValidateChange(DesiredState previous, DesiredState next, ConfigChange change)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(change);
        // The cluster policies are small; when one of them changed too, validate it all.
        if (!ReferenceEquals(previous.Vip, next.Vip) || !ReferenceEquals(previous.RaftTiming, next.RaftTiming) || !string.Equals(previous.StickySecret, next.StickySecret, StringComparison.Ordinal))
        {
            return Validate(next);
        }
        return DesiredStateValidator.ValidateChange(previous.Config, next.Config, change, _limits, _algorithms);
    }
}
