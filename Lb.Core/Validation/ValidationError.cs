namespace Lb.Core.Validation;

/// <summary>One problem in a configuration.</summary>
/// <param name="Field">Path of the offending field, e.g. <c>routes[1].match.path.value</c> or <c>upstream_pools.web.upstreams[0]</c>.</param>
/// <param name="Code">Machine-readable reason (<see cref="ValidationCodes"/>).</param>
/// <param name="Message">What is wrong (the reference's wording where it defines one).</param>
/// <param name="Hint">How to fix it.</param>
public sealed record ValidationError(string Field, string Code, string Message, string Hint);

/// <summary>The outcome of validating a configuration: every problem found, in a deterministic order.</summary>
public sealed class ValidationResult
{
    /// <summary>A result with no errors.</summary>
    public static ValidationResult Valid { get; } = new([]);

    /// <summary>Creates a result.</summary>
    public ValidationResult(IReadOnlyList<ValidationError> errors) => Errors = errors;

    /// <summary>All problems: pools first (by id), then routes (in order).</summary>
    public IReadOnlyList<ValidationError> Errors { get; }

    /// <summary>True when there are no errors.</summary>
    public bool IsValid => Errors.Count == 0;
}
