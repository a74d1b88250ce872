"""The typed errors of `xindai.security`, each with a stable code, zh-CN and English messages
and the HTTP status the API should answer with (`http_status`)."""

from __future__ import annotations

from datetime import datetime

from xindai.errors import InvalidValue, XindaiError


class SecurityError(XindaiError):
    """Base of the security errors; `http_status` is the status the API maps the code to."""

    code = "SECURITY_ERROR"
    http_status: int = 400


# ------------------------------------------------------------------ personal data


class PiiKeyInvalid(SecurityError):
    """The personal-data key from configuration is missing, not base64 or too short."""

    code = "PII_KEY_INVALID"
    http_status = 500

    def __init__(self, reason_en: str, reason_zh: str):
        super().__init__(
            f"personal-data key invalid: {reason_en}", f"个人信息加密密钥无效：{reason_zh}"
        )


class PiiDecryptFailed(SecurityError):
    """A stored token cannot be decrypted: tampered, another kind's token, or another key."""

    code = "PII_DECRYPT_FAILED"
    http_status = 500

    def __init__(self, kind: str):
        self.kind = kind
        super().__init__(
            f"cannot decrypt the stored {kind}: tampered, of another kind, or another key",
            f"无法解密已存储的 {kind}：数据被篡改、类型不符或密钥不同",
        )


# ------------------------------------------------------------------ passwords


class PasswordPolicyError(InvalidValue, SecurityError):
    """A new password does not meet the policy; `reason` says which rule."""

    code = "PASSWORD_POLICY"
    http_status = 422

    def __init__(self, reason_en: str, reason_zh: str):
        # the password itself never goes into the message
        super().__init__("password", "<hidden>", reason_en, reason_zh)


class PasswordTooShort(PasswordPolicyError):
    code = "PASSWORD_TOO_SHORT"

    def __init__(self, minimum: int):
        self.minimum = minimum
        super().__init__(f"must be at least {minimum} characters", f"长度至少为 {minimum} 个字符")


class PasswordTooLong(PasswordPolicyError):
    code = "PASSWORD_TOO_LONG"

    def __init__(self, maximum: int):
        self.maximum = maximum
        super().__init__(f"must be at most {maximum} characters", f"长度不能超过 {maximum} 个字符")


class PasswordAllDigits(PasswordPolicyError):
    code = "PASSWORD_ALL_DIGITS"

    def __init__(self) -> None:
        super().__init__("must not be digits only", "不能全部为数字")


class PasswordContainsUsername(PasswordPolicyError):
    code = "PASSWORD_CONTAINS_USERNAME"

    def __init__(self) -> None:
        super().__init__("must not contain the username", "不能包含用户名")


class PasswordTooCommon(PasswordPolicyError):
    """On the list of common passwords, or a listed word with a few digits or symbols."""

    code = "PASSWORD_TOO_COMMON"

    def __init__(self) -> None:
        super().__init__(
            "is too common or too easy to guess (a well-known password, a keyboard or number "
            "pattern, or a common word with a few digits or symbols); choose a phrase of "
            "several unrelated words",
            "过于常见或容易被猜到（常用密码、键盘或数字序列、常见单词加少量数字或符号），"
            "请使用由几个不相关的词组成的短语",
        )


# ------------------------------------------------------------------ TOTP


class TotpRequired(SecurityError):
    """The account has TOTP enrolled and no code was given."""

    code = "TOTP_REQUIRED"
    http_status = 401

    def __init__(self) -> None:
        super().__init__(
            "a code from the authenticator app is required", "请输入身份验证器应用中的动态码"
        )


class TotpInvalid(SecurityError):
    """The TOTP code is wrong (outside the ±1 step window) or malformed."""

    code = "TOTP_INVALID"
    http_status = 401

    def __init__(self) -> None:
        super().__init__("the authenticator code is wrong", "动态码错误")


class TotpNotPending(SecurityError):
    """A confirmation code came with no new TOTP secret waiting to be confirmed."""

    code = "TOTP_NOT_PENDING"
    http_status = 409

    def __init__(self) -> None:
        super().__init__(
            "no new authenticator secret is waiting for confirmation; enrol first",
            "没有待确认的动态口令，请先绑定",
        )


class ReauthFailed(SecurityError):
    """The current password given to confirm a sensitive change (a new second factor) is
    wrong; counted like a failed login."""

    code = "REAUTH_FAILED"
    http_status = 403

    def __init__(self) -> None:
        super().__init__("the current password is wrong", "当前密码错误")


class TotpReplayed(TotpInvalid):
    """The TOTP code is right but its time step was already used (replay)."""

    code = "TOTP_REPLAYED"

    def __init__(self) -> None:
        SecurityError.__init__(
            self,
            "the authenticator code was already used; wait for the next one",
            "该动态码已使用，请等待下一个",
        )


# ------------------------------------------------------------------ SMS codes


class PhoneInvalid(InvalidValue, SecurityError):
    """Not a mainland mobile number (11 digits starting 13–19)."""

    code = "PHONE_INVALID"
    http_status = 422

    def __init__(self, value: str):
        super().__init__("phone", value, "not a mainland mobile number", "不是有效的手机号码")


class OtpError(SecurityError):
    code = "OTP_ERROR"


class OtpResendTooSoon(OtpError):
    """A code for this number and purpose was sent less than the resend interval ago."""

    code = "OTP_RESEND_TOO_SOON"
    http_status = 429

    def __init__(self, seconds_left: int):
        self.seconds_left = seconds_left
        super().__init__(
            f"a code was just sent; try again in {seconds_left} s",
            f"验证码已发送，请 {seconds_left} 秒后再试",
        )


class OtpDailyLimit(OtpError):
    """The day's cap of codes for this number (`scope="phone"`) or IP (`scope="ip"`) is used."""

    code = "OTP_DAILY_LIMIT"
    http_status = 429

    def __init__(self, scope: str, limit: int):
        self.scope = scope
        self.limit = limit
        what_en = "this number" if scope == "phone" else "this network address"
        what_zh = "该手机号" if scope == "phone" else "该网络地址"
        super().__init__(
            f"{what_en} has reached today's limit of {limit} codes; try again tomorrow",
            f"{what_zh}今日获取验证码已达 {limit} 次上限，请明天再试",
        )


class OtpNotFound(OtpError):
    """No code is pending for this number and purpose (never sent, used, or replaced)."""

    code = "OTP_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__(
            "no verification code is pending; request a new one", "没有待验证的验证码，请重新获取"
        )


class OtpExpired(OtpError):
    code = "OTP_EXPIRED"

    def __init__(self) -> None:
        super().__init__(
            "the verification code has expired; request a new one", "验证码已过期，请重新获取"
        )


class OtpInvalid(OtpError):
    """Wrong code; `tries_left` more tries are allowed on this code."""

    code = "OTP_INVALID"

    def __init__(self, tries_left: int):
        self.tries_left = tries_left
        super().__init__(
            f"wrong verification code; {tries_left} tries left",
            f"验证码错误，还可尝试 {tries_left} 次",
        )


class OtpTooManyTries(OtpError):
    """The code's tries are used up; even the right code is refused now."""

    code = "OTP_TOO_MANY_TRIES"
    http_status = 429

    def __init__(self) -> None:
        super().__init__(
            "too many wrong tries for this code; request a new one",
            "验证码错误次数过多，请重新获取",
        )


# ------------------------------------------------------------------ sessions and access


class AuthRequired(SecurityError):
    """No token, an unknown one, or a revoked one."""

    code = "AUTH_REQUIRED"
    http_status = 401

    def __init__(self) -> None:
        super().__init__("please log in", "请先登录")


class AuthExpired(SecurityError):
    code = "AUTH_EXPIRED"
    http_status = 401

    def __init__(self) -> None:
        super().__init__("the session has expired; please log in again", "登录已过期，请重新登录")


class PermissionDenied(SecurityError):
    """The caller's role lacks `permission`, or the resource is outside its scope."""

    code = "PERMISSION_DENIED"
    http_status = 403

    def __init__(self, permission: str, detail_en: str = "", detail_zh: str = ""):
        self.permission = permission
        super().__init__(
            f"not allowed: {permission}" + (f" ({detail_en})" if detail_en else ""),
            f"无权执行：{permission}" + (f"（{detail_zh}）" if detail_zh else ""),
        )


class LoginFailed(SecurityError):
    """Uniform login failure: unknown user, wrong password or inactive account alike."""

    code = "LOGIN_FAILED"
    http_status = 401

    def __init__(self) -> None:
        super().__init__("wrong username or password", "用户名或密码错误")


class LoginLocked(SecurityError):
    """Too many failed logins in the window; `retry_after_seconds` until the next try."""

    code = "LOGIN_LOCKED"
    http_status = 429

    def __init__(self, retry_after_seconds: int, until: datetime):
        self.retry_after_seconds = retry_after_seconds
        self.until = until
        minutes = max(1, -(-retry_after_seconds // 60))
        super().__init__(
            f"too many failed logins; try again in {minutes} min",
            f"登录失败次数过多，请 {minutes} 分钟后再试",
        )


class StaffExists(SecurityError):
    code = "STAFF_EXISTS"
    http_status = 409

    def __init__(self, username: str):
        self.username = username
        super().__init__(f"staff user {username!r} already exists", f"员工账号 {username!r} 已存在")


class StaffNotFound(SecurityError):
    code = "STAFF_NOT_FOUND"
    http_status = 404

    def __init__(self, staff_id: int | str):
        self.staff_id = staff_id
        super().__init__(f"staff user {staff_id} does not exist", f"员工账号 {staff_id} 不存在")


class AuditImmutable(SecurityError):
    """An attempt to change or delete an audit entry."""

    code = "AUDIT_IMMUTABLE"
    http_status = 500

    def __init__(self) -> None:
        super().__init__("audit entries are never changed or deleted", "审计日志不可修改或删除")
