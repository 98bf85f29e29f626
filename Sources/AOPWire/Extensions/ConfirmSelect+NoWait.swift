extension ConfirmSelect {
    /// The spec's field is named `nowait` (no hyphen) for confirm.select only; this alias matches the
    /// `noWait` of every other method.
    public var noWait: Bool {
        get { self.nowait }
        set { self.nowait = newValue }
    }

    public init(noWait: Bool) {
        self.init(nowait: noWait)
    }
}
