// A menu's entries, shared by the toolbar's menu button and the right-click menu.

export interface MenuEntry {
  id: string;
  label: string;
  disabled?: boolean;
  /** A check item (role menuitemcheckbox) when set: whether it is on. */
  checked?: boolean;
  /** Draw a separator above this entry. */
  separatorBefore?: boolean;
}
