namespace Lb.TestSupport;
public static class Golden { }
