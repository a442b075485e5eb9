using Lb.Core.Spec;

namespace Lb.Core.Validation;

/// <summary>
/// The balancing algorithms validation accepts in <c>routes[].algorithm</c>, and the rules each brings for the
/// route settings it reads. Lb.Balancing provides one built from the registered balancing policies; without it
/// (<see cref="ContractAlgorithms"/>) only the contract's four names are checked.
/// </summary>
public interface IAlgorithmRules
{
    /// <summary>The accepted names, in a stable order (used in error messages).</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>True when <paramref name="name"/> is an accepted algorithm.</summary>
    bool IsKnown(string name);

    /// <summary>
    /// Adds the problems of the algorithm-specific settings of <paramref name="route"/>, whose algorithm is known.
    /// Field paths start with <paramref name="path"/> (e.g. <c>routes[2]</c>). Must not throw.
    /// </summary>
    void ValidateRoute(RouteSpec route, string path, ICollection<ValidationError> errors);
}

/// <summary>The contract's four algorithm names, with no algorithm-specific rules: the default without Lb.Balancing.</summary>
public sealed class ContractAlgorithms : IAlgorithmRules
{
    private ContractAlgorithms()
    {
    }

    /// <summary>The single instance.</summary>
    public static ContractAlgorithms Instance { get; } = new();

    /// <inheritdoc />
    public IReadOnlyCollection<string> Names => Algorithms.All;

    /// <inheritdoc />
    public bool IsKnown(string name) => Algorithms.All.Contains(name);

    /// <inheritdoc />
    public void ValidateRoute(RouteSpec route, string path, ICollection<ValidationError> errors)
    {
    }
}
