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
/// The default validator: <see cref="DesiredStateValidator"/> with the node's limits, Raft timing defaults and
/// registered balancing algorithms.
/// </summary>
public sealed class DefaultDesiredStateValidator : IDesiredStateValidator
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
}
