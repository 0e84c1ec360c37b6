// Generated from docs/openapi.yaml by `npm run gen:api`; do not edit.

export interface paths {
    "/api/monitoring/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Health of the database, the data disk and the sandbox runtime */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description All checks pass */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Health"];
                    };
                };
                /** @description A check fails; `failing` names it */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Health"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics (requests by route pattern, latency, Go runtime, process) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Prometheus text format */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/plain": string;
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/signup": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create an account and log in */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Lowercased on input */
                        username: string;
                        /** Format: email */
                        email: string;
                        password: string;
                    };
                };
            };
            responses: {
                201: components["responses"]["User"];
                400: components["responses"]["Error"];
                409: components["responses"]["Error"];
                429: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Log in with a username or email and a password; the session id is new. A success also sets ecode_device, a signed cookie marking this browser as one the account logged in from: guessing at the account from elsewhere never slows it down. Other browsers wait up to 2 s per try while the account is being guessed at; an address failing too often is refused (429) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Username or email */
                        login: string;
                        password: string;
                    };
                };
            };
            responses: {
                /** @description The account, logged in; or, for an account that requires a security key, {"user": null, "secondFactor": "webauthn", "username": ...}: the key is asked next */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["LoginResult"];
                    };
                };
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                /** @description account_disabled */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description rate_limited, for this address; Retry-After says when to try again */
                429: {
                    headers: {
                        /** @description Seconds */
                        "Retry-After"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** End the current session */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Logged out */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's account */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["User"];
                401: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        /** Delete the caller's account with all its projects; every session ends */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description The username, typed to confirm */
                        confirm: string;
                        /** @description Needed where the account has a password */
                        password?: string;
                    };
                };
            };
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        /** Change the caller's username or email (a new email needs the current password, where the account has one) */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        username?: string;
                        email?: string;
                        currentPassword?: string;
                    };
                };
            };
            responses: {
                200: components["responses"]["User"];
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                409: components["responses"]["Error"];
            };
        };
        trace?: never;
    };
    "/api/auth/password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Set a new password (the current one is needed when there is one); every other session ends */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        currentPassword?: string;
                        newPassword: string;
                    };
                };
            };
            responses: {
                /** @description Changed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's live sessions, the current one first */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Sessions */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            sessions: components["schemas"]["Session"][];
                        };
                    };
                };
                401: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        /** End every session of the caller but this one */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Ended */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                401: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** End one of the caller's sessions; its cookie is refused from the next request on */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Ended */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                401: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/device/code": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Start a device login (RFC 8628 §3.1): a program without a browser, such as the CLI, gets a device code to poll with and a user code for its person to enter at verificationUri, logged in. The codes last 10 minutes. One address may start 20 logins at once, then 10 a minute (429) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @description What the approval page calls the program (no control characters), such as "ecode CLI on laptop"; the token is named after it. Absent or empty: Device login */
                        clientName?: string;
                    };
                };
            };
            responses: {
                /** @description The codes */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["DeviceCodes"];
                    };
                };
                400: components["responses"]["Error"];
                /** @description rate_limited, for this address; Retry-After says when to try again */
                429: {
                    headers: {
                        /** @description Seconds */
                        "Retry-After"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/device/token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Poll a device login with its device code (RFC 8628 §3.4), at most once per interval. Once its person approved, the answer is a new personal API token named after the client, a single time: the login is then gone */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        deviceCode: string;
                    };
                };
            };
            responses: {
                /** @description The token and its account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description The secret, ecode_...: send as Authorization: Bearer */
                            token: string;
                            user: components["schemas"]["User"];
                        };
                    };
                };
                /** @description Not (or no longer) a token, by the error's code as RFC 8628 §3.5 names them: authorization_pending (poll again after the interval), slow_down (polled too soon: the interval grows by 5 seconds for this and every later poll), access_denied (denied in the browser), expired_token (start again), invalid_grant (no such device code, or its token was already handed over) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/device": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The device login waiting for a user code, for its approval page. Wrong codes are limited per account and per address (429) */
        get: {
            parameters: {
                query: {
                    /** @description The user code, in any case, with or without its dash */
                    code: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The waiting login */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["DeviceRequest"];
                    };
                };
                401: components["responses"]["Error"];
                /** @description unknown_user_code: no login is waiting for this code (wrong, expired, or already decided) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description rate_limited, after too many wrong codes from this account or address; Retry-After says when to try again */
                429: {
                    headers: {
                        /** @description Seconds */
                        "Retry-After"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/device/approve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Approve, or deny, the device login waiting for a user code, as the caller: the device's next poll gets a token for the caller's account, or access_denied */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description In any case, with or without its dash */
                        userCode: string;
                        /** @description false denies */
                        approve: boolean;
                    };
                };
            };
            responses: {
                /** @description Decided */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                /** @description unknown_user_code: no login is waiting for this code */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description rate_limited, after too many wrong codes from this account or address; Retry-After says when to try again */
                429: {
                    headers: {
                        /** @description Seconds */
                        "Retry-After"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/passkeys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the caller's security keys and passkeys, oldest first */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The keys */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            passkeys?: components["schemas"]["Passkey"][];
                        };
                    };
                };
                401: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/passkeys/register/begin": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Begin adding a security key or passkey; the answer is for PublicKeyCredential.parseCreationOptionsFromJSON (its publicKey member) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name: string;
                    };
                };
            };
            responses: {
                200: components["responses"]["CreationOptions"];
                /** @description invalid_name */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                401: components["responses"]["Error"];
                /** @description too_many_passkeys */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description passkeys_unavailable: the server is reached by an IP address (set ECODE_PUBLIC_URL or ECODE_PASSKEY_ORIGIN to a domain) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/passkeys/register/finish": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Finish adding a key with the browser's answer; the challenge is used once */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["WebAuthnCredential"];
                };
            };
            responses: {
                /** @description The key, registered */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            passkey?: components["schemas"]["Passkey"];
                        };
                    };
                };
                /** @description no_ceremony (no begin, or expired), invalid_credential, passkey_rejected (wrong challenge, origin or relying party) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                401: components["responses"]["Error"];
                /** @description passkey_exists: the key is registered already (to anyone) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                413: components["responses"]["Error"];
                503: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/passkeys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The credential id, base64url */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Remove one of the caller's keys, unless it is their last way to log in, or their last key while logins require one */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The credential id, base64url */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                401: components["responses"]["Error"];
                404: components["responses"]["Error"];
                /** @description last_login_method (a passkey that logs in alone, with no password or other way left), last_security_key (turn off the requirement first) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Rename one of the caller's keys */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The credential id, base64url */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name: string;
                    };
                };
            };
            responses: {
                /** @description The key */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            passkey?: components["schemas"]["Passkey"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        trace?: never;
    };
    "/api/auth/passkey": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Whether this server offers passkeys, and at which origin (a server at a loopback IP offers them at localhost on the same port); the sign-in page sends the browser there, or says how to turn them on */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Availability */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PasskeyAvailability"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/passkey/begin": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Begin a login with a passkey, no username or password; the browser offers the passkeys it keeps for this site */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["RequestOptions"];
                503: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/passkey/finish": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Finish a passkey login; the passkey must verify its user (fingerprint, face or PIN). The session id is new */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["WebAuthnCredential"];
                };
            };
            responses: {
                200: components["responses"]["User"];
                /** @description no_ceremony, invalid_credential */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description passkey_not_recognized; cloned_authenticator (the signature counter did not move forward: refused and logged) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description account_disabled */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                413: components["responses"]["Error"];
                503: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/second-factor/begin": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Begin confirming a login whose password was right (within 5 minutes) with one of the account's security keys */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["RequestOptions"];
                /** @description no_pending_login */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no_security_key: the account requires a key but has none */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                503: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/second-factor/finish": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Finish the pending login with the key's answer; the session id is new */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["WebAuthnCredential"];
                };
            };
            responses: {
                200: components["responses"]["User"];
                /** @description no_ceremony, invalid_credential */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no_pending_login; key_not_accepted (not one of the account's keys, or a bad answer); cloned_authenticator */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description account_disabled */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                413: components["responses"]["Error"];
                503: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/second-factor": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Turn on or off requiring a security key after the password; on needs a registered key */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        required: boolean;
                    };
                };
            };
            responses: {
                200: components["responses"]["User"];
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                /** @description no_security_key */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/providers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The login providers this server offers (those whose client id and secret the operator set), in display order */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Providers; empty when none is enabled */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            providers?: components["schemas"]["AuthProvider"][];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/oauth/{provider}/start": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Login provider */
                provider: components["parameters"]["provider"];
            };
            cookie?: never;
        };
        /** Browser route: start logging in with a provider (authorization code flow with PKCE S256 and a one-time state kept in this browser's session; a nonce for OpenID Connect providers). A logged-in caller links the provider to their account instead. */
        get: {
            parameters: {
                query?: {
                    /** @description Same-site path to land on afterwards (default /, or /settings when linking); anything else is ignored */
                    next?: string;
                    /** @description Link to the logged-in account; when anonymous the browser is sent to /login?next=/settings */
                    link?: "1";
                };
                header?: never;
                path: {
                    /** @description Login provider */
                    provider: components["parameters"]["provider"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description To the provider's authorize page; or, when the provider can't be reached, to /login?error=provider_unavailable&provider=ID (/settings?error=...#linked-accounts when linking) */
                302: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/oauth/{provider}/callback": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Login provider */
                provider: components["parameters"]["provider"];
            };
            cookie?: never;
        };
        /** Browser route: where the provider sends the browser back. Checks the state against this browser's, trades the code with the PKCE verifier, then logs in (a linked identity), links (a logged-in caller), or signs up (a new identity with an email the provider verified that no account uses yet; when the provider's username is taken here, the identity waits in the session for 10 minutes while the person chooses one). An existing account is never entered through a provider it has not linked. */
        get: {
            parameters: {
                query?: {
                    code?: string;
                    state?: string;
                    /** @description The provider's error, such as access_denied */
                    error?: string;
                };
                header?: never;
                path: {
                    /** @description Login provider */
                    provider: components["parameters"]["provider"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description To the flow's next path; to /login/second-factor?next=PATH when the account requires a security key (the provider was the first factor); to /signup/username?provider=ID[&taken=NAME] to choose a username; or to /login?error=CODE&provider=ID[&next=PATH] (/settings?error=CODE&provider=ID#linked-accounts when linking). CODE is one of oauth_state (state missing, wrong, used or older than 10 minutes), oauth_denied, oauth_failed (the code exchange, PKCE, id_token or user API failed), provider_unavailable, email_exists (a verified provider email that an account already uses: log in with the password and link from Settings), email_unverified (the provider has not verified the email; no account is made), signup_disabled, account_disabled, identity_taken (linked to another account), already_linked (the caller linked another account of this provider), unauthenticated, server_error. */
                302: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/oauth/username": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Finish a sign-up through a provider whose username was taken or unusable, with the username chosen; logs in */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Lowercased on input */
                        username: string;
                    };
                };
            };
            responses: {
                /** @description The new account, logged in, and where the sign-up was going */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            user?: components["schemas"]["User"];
                            next?: string;
                        };
                    };
                };
                400: components["responses"]["Error"];
                /** @description no_pending_signup: no provider sign-up waits in this session (or it is older than 10 minutes) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                403: components["responses"]["Error"];
                409: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/identities": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's linked provider accounts */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Identities, oldest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            identities?: components["schemas"]["LinkedIdentity"][];
                            /** @description False when one more removal would leave the caller no way to log in */
                            canUnlink?: boolean;
                        };
                    };
                };
                401: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/identities/{provider}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Login provider */
                provider: components["parameters"]["provider"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Unlink the caller's account at a provider; refused (409 last_login_method) when it is the last way to log in */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Login provider */
                    provider: components["parameters"]["provider"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Unlinked */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                401: components["responses"]["Error"];
                404: components["responses"]["Error"];
                409: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the caller's personal API tokens */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Tokens, newest first; secrets are never shown again */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            tokens?: components["schemas"]["Token"][];
                        };
                    };
                };
                401: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Create a personal API token; its secret is in this response only */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name: string;
                        /** @description 0 or absent never expires */
                        expiresInDays?: number;
                    };
                };
            };
            responses: {
                /** @description The token */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CreatedToken"];
                    };
                };
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/tokens/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke one of the caller's tokens */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Revoked */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/tokens/current": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke the API token this request is authenticated with: how a client such as the CLI logs out for good */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Revoked */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description not_a_token: the request came with a session, not a token */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                401: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/user/ssh-key": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's SSH key for ssh:// imports (public half); sshKey is null while they have none */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["SSHKey"];
                401: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Create the caller's SSH key (ed25519), replacing any earlier one; add its public half to the git host */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                201: components["responses"]["SSHKey"];
                401: components["responses"]["Error"];
            };
        };
        /** Delete the caller's SSH key */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                401: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/templates": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Templates a project can start from */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Templates by name */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            templates?: components["schemas"]["Template"][];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's projects, most recently changed first, each with its language, last edit and whether it runs */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Projects */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            projects?: components["schemas"]["ListedProject"][];
                        };
                    };
                };
                401: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Create a project from a template; its slug comes from the name */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name: string;
                        /** @default blank */
                        template?: string;
                        /**
                         * @default private
                         * @enum {string}
                         */
                        visibility?: "private" | "public";
                        /** @description A team to create the project in (the caller a member, admin or owner of it); empty: the caller */
                        owner?: string;
                        /** @description Import a git repository with its history instead of a template: https://, or ssh:// and user@host:path with the caller's SSH key (/api/user/ssh-key), cloned inside the project's sandbox through the egress proxy (public hosts, and ECODE_EGRESS_ALLOW_PRIVATE networks, only); or file:// below ECODE_GIT_IMPORT_ROOTS. The name defaults to the repository's. Errors: invalid_git_url, no_ssh_key, ssh_key_refused, host_key_mismatch, address_refused, repo_unreachable, repo_not_found, clone_failed, clone_timeout */
                        gitUrl?: string;
                    };
                };
            };
            responses: {
                201: components["responses"]["Project"];
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                409: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** One project */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["Project"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        /** Delete a project with its files and history */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        /** Rename a project (its slug and URL follow), change its visibility or its internet mode */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name?: string;
                        /** @enum {string} */
                        visibility?: "private" | "public";
                        /** @description Internet mode: the sandbox may reach any public host (never private or local addresses); off, only package registries */
                        internet?: boolean;
                    };
                };
            };
            responses: {
                200: components["responses"]["Project"];
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                409: components["responses"]["Error"];
            };
        };
        trace?: never;
    };
    "/api/users/{owner}/projects/{slug}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                owner: string;
                slug: string;
            };
            cookie?: never;
        };
        /** Look a project up by its owner and slug */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    owner: string;
                    slug: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["Project"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/files": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The project's file tree (folders included, .git hidden, dependency folders not descended) */
        get: {
            parameters: {
                query?: {
                    /** @description sha256: each regular file's SHA-256 too (files past the first 512 MiB read go without) */
                    hash?: "sha256";
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Entries in tree order */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            files?: components["schemas"]["FileEntry"][];
                            truncated?: boolean;
                        };
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/files/{path}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                /** @description Project-relative path; each segment percent-encoded. No '..', absolute paths, NUL or .git */
                path: components["parameters"]["path"];
            };
            cookie?: never;
        };
        /** A file's raw bytes */
        get: {
            parameters: {
                query?: {
                    /** @description Answer as an attachment */
                    download?: "1";
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    /** @description Project-relative path; each segment percent-encoded. No '..', absolute paths, NUL or .git */
                    path: components["parameters"]["path"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The bytes: text/plain for UTF-8 text, else application/octet-stream */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/octet-stream": string;
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        /** Create or replace a file with the raw body, creating parent folders */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    /** @description Project-relative path; each segment percent-encoded. No '..', absolute paths, NUL or .git */
                    path: components["parameters"]["path"];
                };
                cookie?: never;
            };
            /** @description The file's bytes, whatever the Content-Type says */
            requestBody: {
                content: {
                    "*/*": string;
                };
            };
            responses: {
                /** @description Written */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                409: components["responses"]["Error"];
                413: components["responses"]["Error"];
            };
        };
        post?: never;
        /** Delete a file, or a folder with everything in it */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    /** @description Project-relative path; each segment percent-encoded. No '..', absolute paths, NUL or .git */
                    path: components["parameters"]["path"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/mkdir": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create a folder (and its missing parents) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        path: string;
                    };
                };
            };
            responses: {
                /** @description Created */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                409: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/move": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rename or move a file or folder; the target must not exist */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        from: string;
                        to: string;
                    };
                };
            };
            responses: {
                /** @description Moved */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
                409: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/upload": {
        parameters: {
            query?: {
                /** @description Folder to upload into */
                dir?: string;
            };
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Upload several files at once, all or nothing */
        post: {
            parameters: {
                query?: {
                    /** @description Folder to upload into */
                    dir?: string;
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "multipart/form-data": {
                        /** @description Folder to upload into (before the files) */
                        dir?: string;
                        /** @description Each part's filename may be a relative path, e.g. css/site.css */
                        files?: string[];
                    };
                };
            };
            responses: {
                /** @description The files written */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            files?: components["schemas"]["FileEntry"][];
                        };
                    };
                };
                400: components["responses"]["Error"];
                413: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/zip": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** Download the project as a zip (without .git and dependency folders) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The archive */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/zip": string;
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/search": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** Search the project's text files line by line */
        get: {
            parameters: {
                query: {
                    q: string;
                    /** @description 1 for case-sensitive */
                    case?: "0" | "1";
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Matches (at most 1000) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            matches?: components["schemas"]["SearchMatch"][];
                            truncated?: boolean;
                        };
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/run-config": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** What Run will do (ecode.toml, or the guess from the project's files) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The run configuration and where it came from */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RunConfig"];
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/run": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Start the project (install and build when needed, then run); an active run is stopped first */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                202: components["responses"]["Run"];
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                503: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/stop": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Stop the active run (204 also when none is active) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Stopped */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/runs": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** Recent runs, newest first, and the current one */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Runs */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            runs?: components["schemas"]["Run"][];
                            current?: components["schemas"]["Run"] | null;
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/runs/{runId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                runId: string;
            };
            cookie?: never;
        };
        /** One run */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    runId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["Run"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/runs/{runId}/output": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                runId: string;
            };
            cookie?: never;
        };
        /** The run's output so far, then streamed live until it ends (terminal bytes, ANSI colours included), for anyone who may read the project (viewers, and anyone for a public project), with secret values masked */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    runId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Output */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/plain": string;
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/ai/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Whether an AI model is set up, and which */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Status (no secrets) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AIStatus"];
                    };
                };
                401: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/teams": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's teams */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Teams */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            teams?: components["schemas"]["Team"][];
                        };
                    };
                };
                401: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Create a team, the caller its owner. Roles: owner (everything, owners, deletion), admin (members, links, secrets, allowlist, audit log; administers every team project), member (creates projects; edits every team project), viewer (sees) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name: string;
                        displayName?: string;
                    };
                };
            };
            responses: {
                /** @description The team */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            team?: components["schemas"]["Team"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                /** @description username_taken: a person or a team has the name */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/teams/{team}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The team's name */
                team: components["parameters"]["team"];
            };
            cookie?: never;
        };
        /** A team, for its members. Every /api/teams/{team} route answers 403 ip_not_allowed to an address the team's allowlist leaves out, as do the team's projects, their sockets, pages and previews */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The team */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            team?: components["schemas"]["Team"];
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        /** Delete the team and all its projects (owners), its name typed to confirm */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        confirm: string;
                    };
                };
            };
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description confirm_mismatch */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        /** Change the display name (admins) */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        displayName?: string;
                    };
                };
            };
            responses: {
                /** @description The team */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            team?: components["schemas"]["Team"];
                        };
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        trace?: never;
    };
    "/api/teams/{team}/projects": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The team's name */
                team: components["parameters"]["team"];
            };
            cookie?: never;
        };
        /** The team's projects */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Projects */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            projects?: components["schemas"]["Project"][];
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/teams/{team}/members": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The team's name */
                team: components["parameters"]["team"];
            };
            cookie?: never;
        };
        /** Members, owners first; open invite links for admins */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Members and links */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            members?: components["schemas"]["TeamMember"][];
                            invites?: components["schemas"]["TeamInvite"][];
                        };
                    };
                };
            };
        };
        put?: never;
        /** Add a person by username (admins; only owners add owners) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        username: string;
                        /** @enum {string} */
                        role: "owner" | "admin" | "member" | "viewer";
                    };
                };
            };
            responses: {
                /** @description Added */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            member?: components["schemas"]["TeamMember"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                /** @description user_not_found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description already_member */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/teams/{team}/members/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The team's name */
                team: components["parameters"]["team"];
                userId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Remove a member (admins), or leave (yourself) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                    userId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
                /** @description last_owner */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Change a member's role (admins; only owners touch owners); their open workspaces reconnect with it */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                    userId: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        role: "owner" | "admin" | "member" | "viewer";
                    };
                };
            };
            responses: {
                /** @description The member */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            member?: components["schemas"]["TeamMember"];
                        };
                    };
                };
                403: components["responses"]["Error"];
                /** @description last_owner: a team keeps an owner */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/teams/{team}/invites": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The team's name */
                team: components["parameters"]["team"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** An invite link (admins) that makes whoever opens it an admin, member or viewer until it expires */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        role: "admin" | "member" | "viewer";
                        expiresInHours: number;
                    };
                };
            };
            responses: {
                /** @description The link; url (/team-invite/TOKEN) is shown only now */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            invite: components["schemas"]["TeamInvite"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/teams/{team}/invites/{inviteId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The team's name */
                team: components["parameters"]["team"];
                inviteId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke an invite link (admins) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                    inviteId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Revoked */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/team-invites/{token}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                token: string;
            };
            cookie?: never;
        };
        /** What a team invite link offers (signed in) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    token: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The offer */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            invite: components["schemas"]["TeamInviteInfo"];
                        };
                    };
                };
                /** @description ip_not_allowed: the team's allowlist refuses the address */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description invite_not_found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description invite_expired */
                410: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/team-invites/{token}/accept": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                token: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Join the team through the link (a stronger role already held is kept) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    token: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The team */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            team?: components["schemas"]["Team"];
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                410: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/teams/{team}/secrets": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The team's name */
                team: components["parameters"]["team"];
            };
            cookie?: never;
        };
        /** The team's secrets by name (admins). Only admins see and change values here, yet every team project's runs, shells and commands get them as environment variables, whoever starts them: anyone who may edit a team project runs code that can read them. Output masks them (as it does a project's own); a project's own secret of the same name wins */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Secrets without values */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            secrets: components["schemas"]["Secret"][];
                        };
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/teams/{team}/secrets/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The team's name */
                team: components["parameters"]["team"];
                name: string;
            };
            cookie?: never;
        };
        /** Reveal one team secret (admins; audited) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The value */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name?: string;
                            value?: string;
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        /** Set a team secret (sealed with AES-256-GCM under the master key) */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                    name: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        value: string;
                    };
                };
            };
            responses: {
                /** @description Set */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
            };
        };
        post?: never;
        /** Delete a team secret */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/teams/{team}/allowlist": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The team's name */
                team: components["parameters"]["team"];
            };
            cookie?: never;
        };
        /** The networks the team's projects may be reached from (admins) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The allowlist */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Allowlist"];
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        /** Replace the allowlist: IPv4/IPv6 networks or single addresses (at most 200); empty lets every address in. A list without the caller's own address is refused (409 would_lock_out) unless confirm is true; an operator undoes a lock-out with `ecode admin clear-allowlist -team NAME` */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        allowlist: string[];
                        confirm?: boolean;
                    };
                };
            };
            responses: {
                /** @description The saved allowlist, normalised */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Allowlist"];
                    };
                };
                /** @description invalid_cidr */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                403: components["responses"]["Error"];
                /** @description would_lock_out */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/teams/{team}/audit": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The team's name */
                team: components["parameters"]["team"];
            };
            cookie?: never;
        };
        /** The team's view of the audit log (admins): what happened to the team, its members, links, secrets, allowlist and projects, newest first */
        get: {
            parameters: {
                query?: {
                    /** @description A username */
                    actor?: string;
                    /** @description An action or a family: secret matches secret.set, secret.reveal, secret.delete */
                    action?: string;
                    target?: string;
                    /** @description unix ms */
                    since?: number;
                    /** @description unix ms */
                    until?: number;
                    limit?: number;
                    format?: "jsonl" | "csv";
                };
                header?: never;
                path: {
                    /** @description The team's name */
                    team: components["parameters"]["team"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Entries, as for /api/admin/audit */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            entries: components["schemas"]["AuditEntry"][];
                        };
                        "application/x-ndjson": string;
                        "text/csv": string;
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/gpus": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Platform administrators: the GPUs found at start (or simulated), each unit with who leases it since when, and who waits in line */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Inventory and pool */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            inventory: {
                                devices: components["schemas"]["GPUDevice"][];
                                simulated: boolean;
                                /** @description The units are Kubernetes nodes' (ECODE_RUNTIME=kube): no device nodes on the server */
                                remote?: boolean;
                                reason?: string;
                                warnings?: string[];
                            };
                            pool: {
                                simulated: boolean;
                                reason?: string;
                                units: components["schemas"]["GPUUnit"][];
                                queue: components["schemas"]["GPUWaiting"][];
                            };
                        };
                    };
                };
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Platform administrators: search the whole audit log, newest first; export as JSON lines or CSV */
        get: {
            parameters: {
                query?: {
                    /** @description The actor's account id */
                    actor?: string;
                    /** @description An action, or a family of them: token matches token.create and token.revoke */
                    action?: string;
                    /** @description user:ID or project:ID (a project's secrets included) */
                    target?: string;
                    /** @description unix ms */
                    since?: number;
                    /** @description unix ms */
                    until?: number;
                    limit?: number;
                    format?: "jsonl" | "csv";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Entries, as for /api/user/audit */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            entries: components["schemas"]["AuditEntry"][];
                        };
                        "application/x-ndjson": string;
                        "text/csv": string;
                    };
                };
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/audit/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Platform administrators: check every entry's HMAC and compare the log's end with the anchor file; intact, or where an entry was changed, removed or the log truncated */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The verdict */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            intact?: boolean;
                            /** @description Entries that hold */
                            entries?: number;
                            /** @description The newest entry, when intact: keep it elsewhere to check against later (ecode admin verify-audit -anchor SEQ:MAC) */
                            head?: {
                                seq?: number;
                                mac?: string;
                            };
                            brokenAt?: number;
                            reason?: string;
                        };
                    };
                };
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/user/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's security log, newest first (200 entries): what they did, and what was done to their account; every entry is part of the keyed audit chain (ecode admin verify-audit checks it) */
        get: {
            parameters: {
                query?: {
                    /** @description jsonl: one JSON object per line, for export */
                    format?: "jsonl";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Entries */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            entries?: components["schemas"]["AuditEntry"][];
                        };
                        "application/x-ndjson": string;
                    };
                };
                401: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/user/ai-usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's AI tokens per day and kind (agent, completion), newest first */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Usage */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            usage?: {
                                /** @example 2026-11-25 */
                                day?: string;
                                /** @enum {string} */
                                kind?: "agent" | "completion";
                                requests?: number;
                                tokensIn?: number;
                                tokensOut?: number;
                            }[];
                        };
                    };
                };
                401: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/agent/runs": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The project's agent runs, newest first, without steps */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Runs */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            runs?: components["schemas"]["AgentRun"][];
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Ask the agent to build or change the project; it works in the background and streams on the workspace socket (agent.subscribe) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        prompt: string;
                    };
                };
            };
            responses: {
                /** @description The run, started */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            run?: components["schemas"]["AgentRun"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
                /** @description agent_busy: a run is already going on the project */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description ai_not_configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/agent/runs/{runId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                runId: string;
            };
            cookie?: never;
        };
        /** One agent run with its steps */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    runId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The run */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            run?: components["schemas"]["AgentRun"];
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/agent/runs/{runId}/stop": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                runId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Stop the run (whatever tool is running is killed); answers once it has stopped */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    runId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Stopped, or already over */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/complete": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inline completion, the text to insert at the cursor */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        path?: string;
                        /** @description Text before the cursor */
                        prefix?: string;
                        /** @description Text after the cursor */
                        suffix?: string;
                    };
                };
            };
            responses: {
                /** @description The suggestion (may be empty) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            completion?: string;
                        };
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
                /** @description ai_not_configured, or the provider is busy (ai_rate_limited, ai_overloaded, ai_unavailable) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/members": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** Who has access to the project (the owner first); the owner also gets the open invite links */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Members and invites */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            members?: components["schemas"]["Member"][];
                            invites?: components["schemas"]["Invite"][];
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Share the project with someone by username, as editor or viewer (owner only) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        username: string;
                        /** @enum {string} */
                        role: "editor" | "viewer";
                    };
                };
            };
            responses: {
                /** @description The new member */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            member?: components["schemas"]["Member"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                /** @description not_found (the project), user_not_found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description already_member */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/members/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                userId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Take a collaborator's access away (owner), or leave the project (the collaborator); their open tabs close */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    userId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        /** Change a collaborator's role (owner only); their open tabs reconnect with it */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    userId: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        role: "editor" | "viewer";
                    };
                };
            };
            responses: {
                /** @description The member */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            member?: components["schemas"]["Member"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        trace?: never;
    };
    "/api/projects/{id}/invites": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Make an invite link that grants a role until it expires (owner only); its URL is in this answer only */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        role: "editor" | "viewer";
                        expiresInHours: number;
                    };
                };
            };
            responses: {
                /** @description The invite */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            invite?: components["schemas"]["Invite"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/invites/{inviteId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                inviteId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke an invite link (owner only) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    inviteId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Revoked */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/invites/{token}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                token: string;
            };
            cookie?: never;
        };
        /** What an invite link grants, for the person who opened it */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    token: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The invite */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            invite?: components["schemas"]["InviteInfo"];
                        };
                    };
                };
                401: components["responses"]["Error"];
                /** @description ip_not_allowed: the project's team's allowlist refuses the address */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description invite_not_found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description invite_expired */
                410: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/invites/{token}/accept": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                token: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Join the project through an invite link (an owner, or a member with more access, keeps what they have) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    token: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["Project"];
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                410: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/secrets": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The project's secrets by name, for editors (values are read one at a time) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Secrets, without values */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            secrets?: components["schemas"]["Secret"][];
                            /** @description For a team's project: the names of the team's secrets it also gets (its own of the same name win) */
                            teamSecrets?: components["schemas"]["Secret"][];
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/secrets/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                name: string;
            };
            cookie?: never;
        };
        /** Reveal one secret's value (editors) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The value */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name?: string;
                            value?: string;
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        /** Set a secret (sealed with AES-256-GCM under the master key); runs, shells and commands get it as an environment variable from their next start. Their output (console, run output, exec, shells, for every reader) shows ******** wherever a value of 4 characters or more is printed whole, in one write or many; a value the program encodes is not caught: masking guards against accidents, not against code */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    name: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        value: string;
                    };
                };
            };
            responses: {
                /** @description Set */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        post?: never;
        /** Delete a secret */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/resources": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The project's sandbox resources: memory, CPU, processes and disk, each the project's own or the platform's default, with the administrator's ceilings (ECODE_SANDBOX_MAX_*) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["ResourceSettings"];
                404: components["responses"]["Error"];
            };
        };
        /** Set the project's own resources (its owner, or an admin of its team). A null or absent field takes the platform's default. Memory, CPU and processes apply when the sandbox next starts (see /sandbox/restart); the disk limit applies at once */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["ResourceChoice"];
                };
            };
            responses: {
                200: components["responses"]["ResourceSettings"];
                /** @description resources_over_limit (above the administrator's ceiling), resources_under_minimum, invalid_json */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                /** @description resources_below_usage: the project's files already use more disk than asked */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/sandbox": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** Whether the project's sandbox runs, and the limits its cgroup holds it to with what it uses now */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["Sandbox"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/sandbox/restart": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** End the project's sandbox (its run, shells and commands) and start a fresh one with the project's resources as they are now (editors) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["Sandbox"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                503: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/deployment": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The project's deployment (null before a release first goes live), its kept releases newest first, and its deployment settings from ecode.toml with defaults filled (null, with configError saying why, when [deployment] is not valid); for anyone who may read the project */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deployment */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            deployment: components["schemas"]["Deployment"] | null;
                            releases: components["schemas"]["Release"][];
                            config: components["schemas"]["DeploymentConfig"] | null;
                            configError: string | null;
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/deployment/config": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        /** Write the [deployment] table of the project's ecode.toml (the rest of the file is kept); editors. install and serves are read-only and ignored here */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["DeploymentConfig"];
                };
            };
            responses: {
                /** @description The settings as they now stand, defaults filled */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            config: components["schemas"]["DeploymentConfig"];
                        };
                    };
                };
                /** @description invalid_deployment: the message names the bad key; a schedule that would run more often than the server allows (ECODE_MIN_SCHEDULE_INTERVAL, a minute by default) names that floor */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/deployments": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Deploy: a release is queued that checkpoints the project, builds that commit in a fresh sandbox and, if the build succeeds, goes live; editors. Deploys of a project build one at a time: while one waits, asking again answers the waiting one */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": Record<string, never>;
                };
            };
            responses: {
                /** @description The release, queued or building */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            release: components["schemas"]["Release"];
                        };
                    };
                };
                /** @description invalid_deployment: the settings are not valid, or the target cannot be deployed yet (static and scheduled can) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/deployment/executions": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The runs of the project's scheduled deployment, newest first (the last 100 kept), and its live schedule (null when the live deployment is not scheduled); for anyone who may read the project */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Runs and schedule */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            executions: components["schemas"]["Execution"][];
                            schedule: components["schemas"]["Schedule"] | null;
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/deployment/executions/{executionId}/log": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                executionId: string;
            };
            cookie?: never;
        };
        /** One run and its output (secret values masked; the first 256 KiB kept), so far while it runs; for anyone who may read the project */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    executionId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The run and its log */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            execution: components["schemas"]["Execution"];
                            log: string;
                        };
                    };
                };
                /** @description execution_not_found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/deployment/run": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Run now: one run of the live scheduled release, in a fresh sandbox over its own copy of the release, with the project's secrets and the release's timeout; editors */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": Record<string, never>;
                };
            };
            responses: {
                /** @description The run, started */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            execution: components["schemas"]["Execution"];
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                /** @description not_scheduled: the live deployment is not scheduled; execution_running: a run is in progress (runs never overlap) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/deployment/env": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The deployment's environment by name, for editors: its own overrides (values read one at a time), and the project's and team's secrets it inherits. A deploy gets the project's secrets with the overrides replacing same-named ones and adding the rest; a change applies from the next deploy (for a scheduled deployment, from its next run). The workspace's runs and shells never see the overrides */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Names, without values */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            overrides: components["schemas"]["Secret"][];
                            /** @description The project's secrets, inherited unless overridden */
                            secrets: components["schemas"]["Secret"][];
                            /** @description For a team's project: the team's secrets, inherited unless the project or an override has the name */
                            teamSecrets: components["schemas"]["Secret"][];
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/deployment/env/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                name: string;
            };
            cookie?: never;
        };
        /** Reveal one override's value (editors; recorded in the audit log) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The value */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name?: string;
                            value?: string;
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        /** Set an override (sealed like a secret; editors): deploys get it instead of the project's secret of the same name, from the next deploy or scheduled run */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    name: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        value: string;
                    };
                };
            };
            responses: {
                /** @description Set */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description invalid_name, invalid_value */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        post?: never;
        /** Remove an override (editors): deploys get the project's secret of that name again, if it has one */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/deployment/webhook": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The project's failure webhook (null when none is set) and its latest deliveries (the last 20), newest first; editors. A failed or timed-out scheduled run (execution.failed) and a failed build (release.failed) are posted as JSON {type, timestamp, data}, signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), tried up to 4 times with growing pauses (1 s, 4 s, 16 s) on no answer, 408, 429 or 5xx */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The webhook and its deliveries */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            webhook: components["schemas"]["Webhook"] | null;
                            deliveries: components["schemas"]["WebhookDelivery"][];
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        /** Set the webhook's URL (editors). The first time, or with rotateSecret, the platform makes a signing secret (whsec_...) and answers it: the one time it is shown. Only public addresses are sent to, unless the operator allows private networks (ECODE_WEBHOOK_ALLOW_PRIVATE) */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        url: string;
                        rotateSecret?: boolean;
                    };
                };
            };
            responses: {
                /** @description The webhook, and its new secret when one was made */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            webhook: components["schemas"]["Webhook"];
                            /** @description The signing secret, shown this once; null when the secret was kept */
                            secret: string | null;
                        };
                    };
                };
                /** @description invalid_webhook_url */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                /** @description webhooks_unavailable: the server has no key to seal the secret with */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        post?: never;
        /** Remove the webhook (editors); its deliveries stay listed */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
                /** @description webhook_not_found, or the project */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/deployment/webhook/test": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send test: post one webhook.test event now, once, signed like the others, and answer how it went (also listed in the deliveries); editors */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": Record<string, never>;
                };
            };
            responses: {
                /** @description The delivery, delivered or failed */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            delivery: components["schemas"]["WebhookDelivery"];
                        };
                    };
                };
                403: components["responses"]["Error"];
                /** @description webhook_not_found, or the project */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/deployment/instances": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The instances of the project's live autoscale or vm deployment (empty for the other types): each one's state, release, requests in flight, restarts and last exit; with the scaling the deployment aims at. For anyone who may read the project */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Instances */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            instances: components["schemas"]["Instance"][];
                            scale: components["schemas"]["Scale"];
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/deployment/metrics": {
        parameters: {
            query?: {
                window?: "15m" | "1h" | "6h" | "24h";
            };
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The deployment's traffic as counted by the edge, in steps over the window (oldest first; steps with no traffic are present with zeros): requests, status classes, p50/p95 latency, instances; for anyone who may read the project */
        get: {
            parameters: {
                query?: {
                    window?: "15m" | "1h" | "6h" | "24h";
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Metrics */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description the width of one point: 10 s for 15m, 30 s for 1h, 5 min for 6h, 10 min for 24h */
                            stepMs: number;
                            points: components["schemas"]["MetricPoint"][];
                        };
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/deployment/logs": {
        parameters: {
            query?: {
                /** @description only lines holding this text (case-insensitive) */
                q?: string;
                /** @description app: what the instances printed; edge: one access line per request */
                source?: "all" | "app" | "edge";
                /** @description only lines older than this seq (paging back) */
                before?: number;
                limit?: number;
            };
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The deployment's runtime logs, newest last: what its instances print, the edge's access lines and the platform's own (starts, exits, scaling): the last 10,000 lines, kept in memory by the server; secret values masked. With Accept: text/event-stream, the matching lines so far then each new one as a `line` event whose data is a LogLine as JSON. For anyone who may read the project */
        get: {
            parameters: {
                query?: {
                    /** @description only lines holding this text (case-insensitive) */
                    q?: string;
                    /** @description app: what the instances printed; edge: one access line per request */
                    source?: "all" | "app" | "edge";
                    /** @description only lines older than this seq (paging back) */
                    before?: number;
                    limit?: number;
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Lines */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            lines: components["schemas"]["LogLine"][];
                        };
                        "text/event-stream": string;
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/deployment/export": {
        parameters: {
            query?: {
                format?: "kubernetes" | "cloudrun";
            };
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The deployment as ecode.toml sets it now, as manifests to run it elsewhere, a YAML file of one or more documents to download ({slug}-{format}.yaml). kubernetes: a vm is an apps/v1 Deployment and a Service, autoscale a Knative Service (serving.knative.dev/v1), scheduled a batch/v1 CronJob; cloudrun: a Cloud Run service (autoscale, vm) or a run.googleapis.com/v1 Job with the Cloud Scheduler job to make beside it (scheduled). The image is {ECODE_IMAGE_REGISTRY}/ecode/{owner}-{slug}:{live release number, or latest}; the project's secrets are named (a Secret {slug}-env, or one Secret Manager secret each), never their values. For editors. Errors: invalid_format; not_exportable (a static site, which the platform serves itself, or an @every schedule); invalid_deployment */
        get: {
            parameters: {
                query?: {
                    format?: "kubernetes" | "cloudrun";
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The manifests */
                200: {
                    headers: {
                        /** @description attachment; filename="{slug}-{format}.yaml" */
                        "Content-Disposition"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/yaml": string;
                    };
                };
                /** @description invalid_format, not_exportable, invalid_deployment */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/domains": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The project's custom domains, oldest first, each with the DNS record that points it here, whether it is verified and its certificate; for anyone who may read the project */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The domains */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            domains: components["schemas"]["Domain"][];
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Add a custom domain (editors), unverified, with a new token to prove it. The name is lower-cased and IDNA-normalised; an IP address, a name with a scheme, port, path or wildcard, the platform's own host, and names under ECODE_PREVIEW_DOMAIN or ECODE_DEPLOY_DOMAIN are refused. A name is one project's: another project's, verified or added in the last 7 days, is refused */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description such as shop.example.com */
                        name: string;
                    };
                };
            };
            responses: {
                /** @description The domain */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            domain: components["schemas"]["Domain"];
                        };
                    };
                };
                /** @description invalid_domain: the message says why */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                /** @description domain_taken: this project or another holds the name */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/domains/{domainId}/verify": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                domainId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Verify now (editors): the server fetches http://{name}/.well-known/ecode-domain/{token} over the network, as DNS resolves the name, without following redirects; when the answer is the domain's token the domain is verified, and serves the project's live deployment from then on (over HTTPS too when the server has ECODE_TLS_ADDR, the certificate obtained at the first HTTPS visit). A verified domain answers at once */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    domainId: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": Record<string, never>;
                };
            };
            responses: {
                /** @description The verified domain */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            domain: components["schemas"]["Domain"];
                        };
                    };
                };
                403: components["responses"]["Error"];
                /** @description domain_not_found, or the project */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description domain_unverified: the message says what the fetch saw (no DNS record, no connection, another status, another server's answer) and which record to make */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/domains/{domainId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                domainId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Remove a custom domain (editors): it serves nothing from then on, and its certificate is deleted */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    domainId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
                /** @description domain_not_found, or the project */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/releases/{releaseId}/log": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                releaseId: string;
            };
            cookie?: never;
        };
        /** The release's build log as server-sent events: `log` events whose data lines are the output as it comes (secret values masked; the first 1 MiB is kept), then one `status` event whose data is the Release as JSON once it has ended. For a finished release, the whole log and the status at once. For anyone who may read the project */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    releaseId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Event stream */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/event-stream": string;
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/releases/{releaseId}/promote": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                releaseId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Make a ready release live at once (a rollback; undo by promoting previousReleaseId); editors */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    releaseId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The deployment with its new live release */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            deployment: components["schemas"]["Deployment"];
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                /** @description release_not_ready: the release failed, has not finished, or is no longer kept */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/releases/{releaseId}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                releaseId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel a queued or building release: a queued one leaves the queue, a building one's sandbox is stopped; it ends failed with the error "Cancelled by {username}. The live release is unchanged." (its log says so too) and the next queued release builds. Answers once it has ended; editors */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    releaseId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The release, ended */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            release: components["schemas"]["Release"];
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                /** @description release_not_active: the release has already ended */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/exec": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Run one shell line (sh -c) in the project's sandbox and wait for it */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        command: string;
                        /** @default 30 */
                        timeoutSec?: number;
                    };
                };
            };
            responses: {
                /** @description How it ended; output is capped at 1 MiB per stream */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description 137 when killed */
                            exitCode?: number;
                            stdout?: string;
                            stderr?: string;
                            durationMs?: number;
                            timedOut?: boolean;
                        };
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
                503: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/ws": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The workspace WebSocket, one per tab, JSON messages by type: console (console.subscribe; console.reset, console.output, run.status), shells for editors (shell.open, shell.input, shell.resize, shell.close; shell.opened, shell.output, shell.exit), the agent (agent.subscribe; agent.snapshot, agent.event), documents edited together, @codemirror/collab's protocol (doc.open {path, version?, epoch?}, doc.push {path, version, updates}, doc.close; doc.opened {text | updates, version, epoch, readOnly}, doc.update {version: before these, updates}, doc.rejected, doc.renamed, doc.deleted; an author's own update comes back once it is on disk), the file tree (files.changed) and presence (presence.update {file, selection}; presence.self, presence {peers}) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Switching to the WebSocket protocol */
                101: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                404: components["responses"]["Error"];
                /** @description Not a WebSocket handshake */
                426: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/plain": string;
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/preview/pass": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Give the logged-in caller a signed pass to a private project's preview and redirect back to the preview host */
        get: {
            parameters: {
                query: {
                    /** @description The preview host, {slug}--{owner}.{previewDomain}[:port] */
                    host: string;
                    /** @description Path to return to on the preview host */
                    next?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description To the preview host's /__ecode/auth with the pass, or to /login */
                302: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/fork": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Copy a project the caller may read (its files and history, not installed dependencies) into the caller's account, private */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Defaults to the source's name */
                        name?: string;
                    };
                };
            };
            responses: {
                201: components["responses"]["Project"];
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                404: components["responses"]["Error"];
                409: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/transfer": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Move a project (its administrators) to the caller or to a team the caller may create projects in; it keeps its id, files, history, collaborators and own secrets, and its URL and team roles follow the new owner */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description The caller's username or a team's name */
                        owner: string;
                    };
                };
            };
            responses: {
                200: components["responses"]["Project"];
                /** @description invalid_owner: not the caller nor a team */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                /** @description project_exists: the new owner has a project of that name */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/history": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The project's checkpoints (its git history), newest first, at most 200: every one a person or the agent made, and the newest 20 automatic ones besides the current one */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Checkpoints */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            checkpoints?: components["schemas"]["Checkpoint"][];
                            /** @description Older automatic checkpoints left out of the list; they stay in the history and can still be restored or compared by id */
                            omittedAuto?: number;
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/history/{checkpoint}/diff": {
        parameters: {
            query?: {
                /** @description Full id of the checkpoint to compare with; default the one before (none for the first) */
                against?: string;
            };
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                /** @description Full checkpoint id */
                checkpoint: string;
            };
            cookie?: never;
        };
        /** What changed at a checkpoint: each file created, modified, deleted or renamed, with line counts and unified hunks. Binary files and files over 1 MiB are summarised; one file shows at most 64 KiB of diff, the whole answer at most 1 MiB and 500 files */
        get: {
            parameters: {
                query?: {
                    /** @description Full id of the checkpoint to compare with; default the one before (none for the first) */
                    against?: string;
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    /** @description Full checkpoint id */
                    checkpoint: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The changes */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CheckpointDiff"];
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/checkpoints": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Checkpoint everything the project holds now (what .gitignore names excepted) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        message?: string;
                    };
                };
            };
            responses: {
                /** @description Nothing changed since the last checkpoint; that one is returned with changed false */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            checkpoint?: components["schemas"]["Checkpoint"];
                            changed?: boolean;
                        };
                    };
                };
                /** @description A new checkpoint */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            checkpoint?: components["schemas"]["Checkpoint"];
                            changed?: boolean;
                        };
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/restore": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Make the files what they were at a checkpoint, as a new checkpoint (unsaved changes are checkpointed first; undo by restoring the checkpoint before) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Full checkpoint id */
                        checkpoint: string;
                    };
                };
            };
            responses: {
                /** @description The restore checkpoint */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            checkpoint?: components["schemas"]["Checkpoint"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/snapshots": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The project's data snapshots of one environment (dev by default: checkpoints with data; prod: those taken before each deploy), newest first: each names the checkpoint it belongs to; for project members who may write */
        get: {
            parameters: {
                query?: {
                    env?: "dev" | "prod";
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Snapshots */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            snapshots: components["schemas"]["DataSnapshot"][];
                        };
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Checkpoint the files (as POST /checkpoints does) and snapshot the development data with it: the database (a backup), the key-value entries, the object manifest. Kept: the newest 20 snapshots of a project, and those made here for 30 days */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        message?: string;
                    };
                };
            };
            responses: {
                /** @description The checkpoint and its data */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            checkpoint: components["schemas"]["Checkpoint"];
                            snapshot: components["schemas"]["DataSnapshot"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
                /** @description snapshot_busy or database_busy: another snapshot, restore or backup is under way */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/snapshots/{commit}/restore": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                /** @description Full id of a checkpoint that has a data snapshot */
                commit: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Bring back a checkpoint's files and development data. The data of the moment before is snapshotted first and attached to the "Before restoring" checkpoint (undo names it: restore it here to undo). All or nothing: should a part fail, what was restored is put back */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    /** @description Full id of a checkpoint that has a data snapshot */
                    commit: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description What was restored */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SnapshotRestore"];
                    };
                };
                /** @description snapshot_not_found: the checkpoint has no data snapshot */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description snapshot_busy or database_busy */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description snapshot_restore_failed: nothing changed (or, said so, putting back failed too) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/data-snapshots/{snapshot}/restore": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                /** @description A data snapshot's id */
                snapshot: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Bring back a snapshot's data alone, in its own environment: how production's database, keys and objects go back to before a deploy (the code is the release's: roll the deployment back for it). The data of the moment before is snapshotted first (undo: restore it here to undo). All or nothing */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    /** @description A data snapshot's id */
                    snapshot: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description What was restored */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["DataRestore"];
                    };
                };
                /** @description snapshot_not_found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description snapshot_busy or database_busy */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description snapshot_restore_failed: nothing changed (or, said so, putting back failed too) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/database": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The project's PostgreSQL databases (dev for the workspace, prod for deployments; none until created) and whether the platform's database server is available; for anyone who may read the project */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Databases */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            databases: components["schemas"]["Database"][];
                            status: components["schemas"]["DatabaseStatus"];
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Create the project's database for an environment (editors). Its DATABASE_URL and PG* variables reach every run, shell and agent command from their next start. Errors: database_unavailable (503), invalid_env */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /**
                         * @default dev
                         * @enum {string}
                         */
                        env?: "dev" | "prod";
                    };
                };
            };
            responses: {
                201: components["responses"]["Database"];
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                503: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/database/{env}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Delete the environment's database, its role and its backups, for good (the project's owner or a team admin) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/database/{env}/credentials": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
            };
            cookie?: never;
        };
        /** How to connect to the database as its own role: the URL and its parts, password included (editors) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Credentials */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            credentials: components["schemas"]["DatabaseCredentials"];
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/database/{env}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Give the database's role a new password (editors); runs, shells and deployments get it from their next start, sessions already open stay connected */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["Database"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/database/{env}/refresh-size": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Measure the database's size now and apply the quota: over it the database turns read-only, under it writable again (anyone who may read the project) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["Database"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/database/{env}/query": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Run SQL as the project's own role: one or more statements in one transaction (rolled back on an error), each statement's result returned. Editors run read-write; viewers in a READ ONLY transaction (readOnly true). Statements time out after the smaller of 30 s and the database's limit. Each run is kept in the caller's history. Errors: sql_empty; sql_error (the body adds PostgreSQL's position, sqlState, detail and hint) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description At most 1 MiB */
                        sql: string;
                        /**
                         * @description Rows kept per result
                         * @default 1000
                         */
                        limit?: number;
                    };
                };
            };
            responses: {
                /** @description The results, one per statement */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            results: components["schemas"]["QueryResult"][];
                            tookMs: number;
                            /** @description The statements ran in a read-only transaction */
                            readOnly: boolean;
                            /** @description What PostgreSQL said while running them, like "NOTICE: ..." (RAISE NOTICE) */
                            notices: string[];
                        };
                    };
                };
                /** @description sql_empty, or sql_error: PostgreSQL refused a statement */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SQLError"];
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/database/{env}/history": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
            };
            cookie?: never;
        };
        /** The caller's own console statements on this database, newest first (the last 100) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description History */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            queries: components["schemas"]["QueryHistoryEntry"][];
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/database/{env}/tables": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
            };
            cookie?: never;
        };
        /** The database's tables and views in every schema but PostgreSQL's own, with their columns, indexes, size and row counts */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Tables */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            tables: components["schemas"]["DatabaseTable"][];
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/database/{env}/tables/{table}/rows": {
        parameters: {
            query?: {
                schema?: string;
            };
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
                table: string;
            };
            cookie?: never;
        };
        /** A page of a table's rows. Errors: table_not_found (404), unknown_column, invalid_filter (400) */
        get: {
            parameters: {
                query?: {
                    schema?: string;
                    offset?: number;
                    limit?: number;
                    /** @description A column to order by */
                    order?: string;
                    /** @description 1: descending */
                    desc?: string;
                    /** @description column:op:value, repeated; op is one of eq, ne, lt, le, gt, ge, like, ilike, null, notnull (the last two take no value) */
                    filter?: string[];
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    table: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Rows */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TableRows"];
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Change one row, found by its primary key (editors). Values are text or null, cast to each column's type. Errors: no_primary_key, missing_key (400), row_not_found (404) */
        patch: {
            parameters: {
                query?: {
                    schema?: string;
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    table: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Every primary key column, with its value as text */
                        key: {
                            [key: string]: string;
                        };
                        /** @description The columns to change */
                        set: {
                            [key: string]: string | null;
                        };
                    };
                };
            };
            responses: {
                /** @description The row as it is now */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            row: {
                                [key: string]: string | null;
                            };
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        trace?: never;
    };
    "/api/projects/{id}/database/{env}/backups": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
            };
            cookie?: never;
        };
        /** The database's backups, newest first: manual ones, the daily ones (the last 7), those taken before a restore or a copy, and uploaded dumps */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Backups */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            backups: components["schemas"]["DatabaseBackup"][];
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Back the database up now (pg_dump's custom format), answering once done (editors). Errors: database_busy (409) while another backup or restore runs */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": Record<string, never>;
                };
            };
            responses: {
                201: components["responses"]["DatabaseBackup"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                409: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/database/{env}/backups/upload": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Keep a dump made elsewhere (pg_dump -Fc, at most 1 GiB) as a backup of kind upload, to restore like any other (editors). Errors: not_a_dump */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/octet-stream": string;
                };
            };
            responses: {
                201: components["responses"]["DatabaseBackup"];
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                413: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/database/{env}/backups/{backupId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
                backupId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Delete a backup and its file (editors) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    backupId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                409: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/database/{env}/backups/{backupId}/download": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
                backupId: string;
            };
            cookie?: never;
        };
        /** The backup's dump file, for pg_restore (editors, since it holds all the data) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    backupId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The dump */
                200: {
                    headers: {
                        /** @description attachment with the file's name */
                        "Content-Disposition"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/octet-stream": string;
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/database/{env}/backups/{backupId}/restore": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
                backupId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Make the database what the backup holds (editors). The current state is backed up first (kind pre-restore); restoring that one is the undo. The restore is one transaction: when it fails (restore_failed, with pg_restore's message) the database is left as it was. Errors: database_busy (409) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    backupId: string;
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": Record<string, never>;
                };
            };
            responses: {
                /** @description Restored */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            restore: {
                                backup: components["schemas"]["DatabaseBackup"];
                                undo: components["schemas"]["DatabaseBackup"];
                            };
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                409: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/database/prod/copy-from-dev": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Replace the production database's contents with the development one's schema, and its data when data is true (editors); prod is created when missing and backed up first (kind pre-copy, the undo) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @default false */
                        data?: boolean;
                    };
                };
            };
            responses: {
                /** @description Copied */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            database: components["schemas"]["Database"];
                            undo: components["schemas"]["DatabaseBackup"] | null;
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                409: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/kv/{env}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
            };
            cookie?: never;
        };
        /** The key-value store's keys in order, a page at a time, with its usage against its limits (members with write access: the data is the project's). Errors: invalid_env, invalid_limit */
        get: {
            parameters: {
                query?: {
                    /** @description Only keys that start with it */
                    prefix?: string;
                    /** @description Only keys after it: the previous page's next */
                    after?: string;
                    limit?: number;
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of keys */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["KVPage"];
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/kv/{env}/value": {
        parameters: {
            query: {
                /** @description The key (at most 1,000 bytes, no NUL) */
                key: string;
            };
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
            };
            cookie?: never;
        };
        /** One key's value, the opaque string its clients stored (often JSON text). Errors: kv_key_not_found (404) */
        get: {
            parameters: {
                query: {
                    /** @description The key (at most 1,000 bytes, no NUL) */
                    key: string;
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The entry and its value */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["KVValue"];
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        /** Set a key's value, stored as given; audited (kv.set). Errors (413): kv_value_too_large (over 5 MiB), kv_key_too_long, kv_too_many_keys (over 5,000), kv_full (over 50 MiB) */
        put: {
            parameters: {
                query: {
                    /** @description The key (at most 1,000 bytes, no NUL) */
                    key: string;
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        value: string;
                    };
                };
            };
            responses: {
                /** @description Set */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            entry: components["schemas"]["KVEntry"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                413: components["responses"]["Error"];
            };
        };
        post?: never;
        /** Delete a key; audited (kv.delete). Errors: kv_key_not_found (404) */
        delete: {
            parameters: {
                query: {
                    /** @description The key (at most 1,000 bytes, no NUL) */
                    key: string;
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/storage/{env}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
            };
            cookie?: never;
        };
        /** The environment's buckets (the bucket default is made on first use) and its usage against the quota (members with write access). Errors: invalid_env */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Buckets and usage */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            buckets: components["schemas"]["StorageBucket"][];
                            usage: components["schemas"]["StorageUsage"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/storage/{env}/buckets": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create a bucket; audited. Names follow S3's rules (3-63 lower-case letters, digits, dots and hyphens). Errors: invalid_bucket_name (400), bucket_exists (409) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name: string;
                    };
                };
            };
            responses: {
                /** @description Created */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            bucket: components["schemas"]["StorageBucket"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                409: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/storage/{env}/buckets/{bucket}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
                bucket: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Delete an empty bucket; audited. Errors: bucket_not_found (404), bucket_not_empty (409) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    bucket: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                409: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/storage/{env}/buckets/{bucket}/objects": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
                bucket: string;
            };
            cookie?: never;
        };
        /** The bucket's objects in key order, a page at a time; with delimiter /, the keys under a deeper folder are rolled up into prefixes. Errors: bucket_not_found (404) */
        get: {
            parameters: {
                query?: {
                    /** @description Only keys that start with it (a folder: photos/) */
                    prefix?: string;
                    /** @description Usually /: keys with it after the prefix are listed once, as a prefix */
                    delimiter?: string;
                    /** @description The previous page's next */
                    after?: string;
                    limit?: number;
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    bucket: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of objects and folders */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            objects: components["schemas"]["StorageObject"][];
                            prefixes: string[];
                            /** @description Empty on the last page */
                            next: string;
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        /** Delete every object whose key starts with prefix (a folder); audited. An empty prefix is refused */
        delete: {
            parameters: {
                query: {
                    prefix: string;
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    bucket: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            deleted: number;
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/storage/{env}/buckets/{bucket}/object": {
        parameters: {
            query: {
                /** @description The object's key (1 to 1,024 bytes, no NUL) */
                key: string;
            };
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
                bucket: string;
            };
            cookie?: never;
        };
        /** The object's bytes, as an attachment; a Range of one span answers 206. Errors: object_not_found (404), invalid_range (400) */
        get: {
            parameters: {
                query: {
                    /** @description The object's key (1 to 1,024 bytes, no NUL) */
                    key: string;
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    bucket: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The bytes */
                200: {
                    headers: {
                        /** @description attachment with the key's last segment as the file name */
                        "Content-Disposition"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "*/*": string;
                    };
                };
                /** @description The range asked for */
                206: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "*/*": string;
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        /** Write the object from the raw body (small files; big ones through uploads), replacing any; Content-Type is kept as the object's. Errors: invalid_key (400), storage_quota_exceeded (413) */
        put: {
            parameters: {
                query: {
                    /** @description The object's key (1 to 1,024 bytes, no NUL) */
                    key: string;
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    bucket: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "*/*": string;
                };
            };
            responses: {
                /** @description Written */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            object: components["schemas"]["StorageObject"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                413: components["responses"]["Error"];
            };
        };
        post?: never;
        /** Delete the object; audited. Errors: object_not_found (404) */
        delete: {
            parameters: {
                query: {
                    /** @description The object's key (1 to 1,024 bytes, no NUL) */
                    key: string;
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    bucket: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/storage/{env}/uploads": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Start a resumable upload of one object, sent in chunks then finished. Errors: bucket_not_found (404), invalid_key (400) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        bucket: string;
                        key: string;
                        contentType?: string;
                    };
                };
            };
            responses: {
                201: components["responses"]["StorageUpload"];
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/storage/{env}/uploads/{upload}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
                upload: string;
            };
            cookie?: never;
        };
        /** How many bytes of the upload the server holds: where to resume. Errors: upload_not_found (404) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    upload: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["StorageUpload"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        /** Append a chunk (the raw body) at offset, which must be the bytes received so far. Errors: upload_offset_mismatch (409, with received in the error's details), invalid_offset (400), storage_quota_exceeded (413), upload_not_found (404) */
        put: {
            parameters: {
                query: {
                    offset: number;
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    upload: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "*/*": string;
                };
            };
            responses: {
                200: components["responses"]["StorageUpload"];
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                /** @description The offset is not where the upload stands; resume from received */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @example upload_offset_mismatch */
                                code: string;
                                message: string;
                                details?: {
                                    /** @description The bytes the server holds; send the next chunk from there */
                                    received: number;
                                };
                            };
                        };
                    };
                };
                413: components["responses"]["Error"];
            };
        };
        post?: never;
        /** Abandon the upload and what it received */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    upload: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Abandoned */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/storage/{env}/uploads/{upload}/finish": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                env: "dev" | "prod";
                upload: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Make the upload's bytes the object (replacing any); audited. Errors: upload_not_found (404), storage_quota_exceeded (413) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    env: "dev" | "prod";
                    upload: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The object */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            object: components["schemas"]["StorageObject"];
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                413: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/monitoring/event": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Monitoring events from a browser, batched (the SDK sends them with fetch or navigator.sendBeacon). Authenticated by a deployment's public ingest key (?key=) or, with ?scope=platform, as the platform's own UI. Each event is checked on its own: the valid ones are kept, the others listed. Cross-origin and credential-free (CORS *). Errors: bad_batch (400), unknown_key (401), payload_too_large / too_many_events (413, over 1 MiB or 500 events), rate_limited (429 with Retry-After) */
        post: {
            parameters: {
                query?: {
                    /** @description The deployment's public ingest key, pk_... */
                    key?: string;
                    /** @description platform: the platform's own UI */
                    scope?: "platform";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            /** @description A JSON array of events: pageview, error, vital, request, event (any Content-Type: sendBeacon sends text/plain) */
            requestBody: {
                content: {
                    "text/plain": string;
                    "application/json": components["schemas"]["MonitorEvent"][];
                };
            };
            responses: {
                /** @description The batch was taken; rejected lists the events that were not */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["IngestResult"];
                    };
                };
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                413: components["responses"]["Error"];
                429: components["responses"]["Error"];
            };
        };
        delete?: never;
        /** CORS preflight: any origin may post, without credentials */
        options: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Access-Control-Allow-Origin: *, the methods and headers allowed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/monitoring/replay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** One chunk of a session replay: the gzip of a JSON array of rrweb events, as the body. Chunks may come out of order or twice (the later replaces the earlier). Errors: bad_chunk (400: not gzip, or not rrweb events), replay_off (400), unknown_key (401), payload_too_large (413, over 1 MiB), replay_full (413: the session holds too much), rate_limited (429) */
        post: {
            parameters: {
                query: {
                    key: string;
                    session: string;
                    seq: number;
                    /** @description The session has had an error */
                    error?: "1";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/octet-stream": string;
                };
            };
            responses: {
                /** @description Stored */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                413: components["responses"]["Error"];
                429: components["responses"]["Error"];
            };
        };
        delete?: never;
        /** CORS preflight: any origin may post, without credentials */
        options: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Access-Control-Allow-Origin: *, the methods and headers allowed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/monitoring/platform/overview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The platform's own traffic, latency per route, browser errors and Web Vitals of its UI (admins) */
        get: {
            parameters: {
                query?: {
                    /** @description The span of time up to now */
                    range?: components["parameters"]["range"];
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["MonitorOverview"];
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/monitoring/platform/errors": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The platform UI's errors grouped by fingerprint (admins) */
        get: {
            parameters: {
                query?: {
                    /** @description The span of time up to now */
                    range?: components["parameters"]["range"];
                    status?: components["parameters"]["errorStatus"];
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["ErrorGroups"];
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/monitoring/platform/errors/{fingerprint}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description An error group's fingerprint */
                fingerprint: components["parameters"]["fingerprint"];
            };
            cookie?: never;
        };
        /** One error group of the platform UI with its latest occurrences (admins) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description An error group's fingerprint */
                    fingerprint: components["parameters"]["fingerprint"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["ErrorDetail"];
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Resolve, ignore or reopen an error group of the platform UI (admins) */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description An error group's fingerprint */
                    fingerprint: components["parameters"]["fingerprint"];
                };
                cookie?: never;
            };
            requestBody: components["requestBodies"]["ErrorStatus"];
            responses: {
                200: components["responses"]["ErrorGroup"];
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        trace?: never;
    };
    "/api/projects/{id}/monitoring": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The deployment's monitoring settings: its public ingest key (made on first read), whether the edge adds the monitoring script to its pages, replay sampling and masking, and the script tag for sites hosted elsewhere */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["MonitorSettings"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        /** Change the monitoring settings (editors). Errors: invalid_settings */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        inject?: boolean;
                        replaySample?: number;
                        replayOnError?: boolean;
                        maskText?: boolean;
                    };
                };
            };
            responses: {
                200: components["responses"]["MonitorSettings"];
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/monitoring/key": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rotate the public ingest key: the old one stops being accepted (project admins) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["MonitorSettings"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/monitoring/overview": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The deployment's dashboard over a range: traffic and latency from the edge (per step and per route, slowest first), page views, browser errors, failed requests and Web Vitals from its visitors' browsers */
        get: {
            parameters: {
                query?: {
                    /** @description The span of time up to now */
                    range?: components["parameters"]["range"];
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["MonitorOverview"];
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/monitoring/errors": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The deployment's browser errors grouped by fingerprint, latest first, with counts, sessions and first and last seen */
        get: {
            parameters: {
                query?: {
                    /** @description The span of time up to now */
                    range?: components["parameters"]["range"];
                    status?: components["parameters"]["errorStatus"];
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["ErrorGroups"];
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/monitoring/errors/{fingerprint}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                /** @description An error group's fingerprint */
                fingerprint: components["parameters"]["fingerprint"];
            };
            cookie?: never;
        };
        /** One error group with its latest occurrences (stack, page, session) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    /** @description An error group's fingerprint */
                    fingerprint: components["parameters"]["fingerprint"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["ErrorDetail"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Resolve, ignore or reopen an error group (editors); a resolved group that happens again opens by itself */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    /** @description An error group's fingerprint */
                    fingerprint: components["parameters"]["fingerprint"];
                };
                cookie?: never;
            };
            requestBody: components["requestBodies"]["ErrorStatus"];
            responses: {
                200: components["responses"]["ErrorGroup"];
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        trace?: never;
    };
    "/api/projects/{id}/monitoring/replays": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The deployment's recorded sessions, newest first */
        get: {
            parameters: {
                query?: {
                    /** @description The span of time up to now */
                    range?: components["parameters"]["range"];
                    /** @description Only sessions that had an error */
                    errors?: "1";
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Sessions */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            replays: components["schemas"]["ReplaySession"][];
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/monitoring/replays/{session}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                session: string;
            };
            cookie?: never;
        };
        /** One recorded session: its chunks, and the sequence numbers missing between them */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    session: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The session */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ReplaySession"] & {
                            items: {
                                seq: number;
                                firstTs: number;
                                lastTs: number;
                                bytes: number;
                                fullSnapshot: boolean;
                            }[];
                            missing: number[];
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/monitoring/replays/{session}/chunks/{seq}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                session: string;
                seq: number;
            };
            cookie?: never;
        };
        /** One chunk's rrweb events as stored, a JSON array sent with Content-Encoding: gzip */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    session: string;
                    seq: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The chunk */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description rrweb's EventType */
                            type: number;
                            /** @description Unix ms */
                            timestamp: number;
                            /** @description The event's own, as rrweb recorded it */
                            data?: unknown;
                        }[];
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/alerts/rules": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The deployment's alert rules */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Rules */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            rules: components["schemas"]["AlertRule"][];
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Add an alert rule (editors): a threshold on a metric over a window, an SLO burn rate on the error rate (multi-window: 14.4× over 1 h and 5 min, 6× over 6 h and 30 min), or anomaly detection (robust z-score against the same time last week). Errors: invalid_rule, email_unconfigured, invalid_webhook */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody: components["requestBodies"]["AlertRule"];
            responses: {
                201: components["responses"]["AlertRule"];
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/alerts/rules/{rule}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                rule: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Delete an alert rule and resolve its open alert (editors) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    rule: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        /** Change an alert rule (editors) */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    rule: string;
                };
                cookie?: never;
            };
            requestBody: components["requestBodies"]["AlertRule"];
            responses: {
                200: components["responses"]["AlertRule"];
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        trace?: never;
    };
    "/api/projects/{id}/alerts/rules/{rule}/test": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                rule: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send a test notification on each of the rule's channels (editors) and say how each went */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    rule: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description One result per channel */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            results: {
                                /** @enum {string} */
                                channel: "inApp" | "webhook" | "email";
                                ok: boolean;
                                /** @description Why the channel failed; absent when ok */
                                error?: string;
                            }[];
                        };
                    };
                };
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/alerts": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The deployment's alerts, firing and past */
        get: {
            parameters: {
                query?: {
                    status?: "firing" | "resolved" | "all";
                };
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Alerts, newest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            alerts: components["schemas"]["Alert"][];
                        };
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/alerts/{alert}/silence": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                alert: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send no notification of this alert for a while (editors) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    alert: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        minutes: number;
                    };
                };
            };
            responses: {
                200: components["responses"]["Alert"];
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/alerts/{alert}/resolve": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
                alert: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Resolve an alert by hand (editors); it fires again if its condition still holds at the next evaluation */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                    alert: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["Alert"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/alerts/webhook-secret": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The secret alert webhooks are signed with (Standard Webhooks; editors) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["WebhookSecret"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Rotate the alert webhooks' signing secret (editors) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["WebhookSecret"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/notifications": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The signed-in person's notifications in the app (alerts of the projects they edit), newest first */
        get: {
            parameters: {
                query?: {
                    unread?: "1";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Notifications */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            notifications: components["schemas"]["Notification"][];
                            unread: number;
                        };
                    };
                };
                401: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/notifications/read": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Mark notifications read: some by id, or all */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        ids?: string[];
                        all?: boolean;
                    };
                };
            };
            responses: {
                /** @description Marked */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/billing": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's billing account (or a team's, for its admins): plan, balance, period, forecast (micro-credits) */
        get: {
            parameters: {
                query?: {
                    /** @description A team's name: its account (admins and owners); without it, the caller's own */
                    team?: components["parameters"]["billingTeam"];
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            billing: components["schemas"]["BillingAccount"];
                        };
                    };
                };
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/billing/plans": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The plans, top-up packs and the price of each meter */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The catalog */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            plans: components["schemas"]["Plan"][];
                            topUps: {
                                minCredits: number;
                                centsPerCredit: number;
                            };
                            prices: {
                                meter: string;
                                category: string;
                                unit: string;
                                /** Format: int64 */
                                micro: number;
                            }[];
                        };
                    };
                };
                401: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/billing/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Rated usage by day, category, project and person (default: the current period) */
        get: {
            parameters: {
                query?: {
                    /** @description A team's name: its account (admins and owners); without it, the caller's own */
                    team?: components["parameters"]["billingTeam"];
                    from?: number;
                    to?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Usage rows */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            usage: {
                                /** Format: int64 */
                                from: number;
                                /** Format: int64 */
                                to: number;
                                rows: components["schemas"]["UsageRow"][];
                            };
                        };
                    };
                };
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/billing/statement.csv": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A month's statement as CSV: each day's usage by category, meter, project and person, with totals */
        get: {
            parameters: {
                query?: {
                    /** @description A team's name: its account (admins and owners); without it, the caller's own */
                    team?: components["parameters"]["billingTeam"];
                    period?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description CSV */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/csv": string;
                    };
                };
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/billing/transactions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's ledger transfers as the payer sees them (signed amounts), newest first */
        get: {
            parameters: {
                query?: {
                    /** @description A team's name: its account (admins and owners); without it, the caller's own */
                    team?: components["parameters"]["billingTeam"];
                    before?: string;
                    limit?: number;
                    /** @description false leaves out the usage charges */
                    usage?: boolean;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Transactions */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            transactions: components["schemas"]["BillingTransaction"][];
                        };
                    };
                };
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/billing/checkout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A Stripe Checkout session for a top-up (credits) or a plan's subscription (plan) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        team?: string;
                        credits?: number;
                        plan?: string;
                    };
                };
            };
            responses: {
                200: components["responses"]["RedirectURL"];
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
                503: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/billing/portal": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A Stripe customer portal session (invoices, payment methods, the subscription) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        team?: string;
                    };
                };
            };
            responses: {
                200: components["responses"]["RedirectURL"];
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
                503: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/billing/stripe/webhook": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Stripe's events, verified with the endpoint's signing secret (Stripe-Signature), each processed once */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": Record<string, never>;
                };
            };
            responses: {
                /** @description Received (duplicates too) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            received: boolean;
                        };
                    };
                };
                400: components["responses"]["Error"];
                413: components["responses"]["Error"];
                503: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/billing/grants": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Grant credits to a person or a team (platform administrators) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        user?: string;
                        team?: string;
                        credits: number;
                        reason: string;
                    };
                };
            };
            responses: {
                /** @description The grant's transfer */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            transfer: components["schemas"]["LedgerTransfer"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/billing/reconcile": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Check the ledger: every balance is the sum of its transfers and all balances sum to zero (platform administrators) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The report */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            report: {
                                accounts: number;
                                transfers: number;
                                /** Format: int64 */
                                total: number;
                                problems: string[];
                                ok: boolean;
                            };
                        };
                    };
                };
                401: components["responses"]["Error"];
                403: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's courses, in any role */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Courses */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            courses: components["schemas"]["Course"][];
                        };
                    };
                };
                401: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Create a course; the caller becomes its owner (a teacher) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name: string;
                        description?: string;
                    };
                };
            };
            responses: {
                /** @description The course */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CourseBody"];
                    };
                };
                400: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/join": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Join a course as a student by its join code (8 characters, any case); the UI's join link is /courses/join/{code} */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        code: string;
                    };
                };
            };
            responses: {
                /** @description The course */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CourseBody"];
                    };
                };
                /** @description not_found: no course has the code (or it was replaced) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
            };
            cookie?: never;
        };
        /** A course, for its members (non-members get 404) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The course */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CourseBody"];
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        /** Delete the course (its owner) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        /** Rename or describe the course (teachers) */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name?: string;
                        description?: string;
                    };
                };
            };
            responses: {
                /** @description The course */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CourseBody"];
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        trace?: never;
    };
    "/api/courses/{id}/join-code": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A new join code (teachers); the old one stops working */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The code */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            joinCode: string;
                        };
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/members": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
            };
            cookie?: never;
        };
        /** The course's people (teachers and TAs) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Members */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            members: components["schemas"]["CourseMember"][];
                        };
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Add a person by username (teachers) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        username: string;
                        role: components["schemas"]["CourseRole"];
                    };
                };
            };
            responses: {
                /** @description Added */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            member: components["schemas"]["CourseMember"];
                        };
                    };
                };
                /** @description user_not_found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description already_member */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/members/{user}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
                /** @description The member's user id */
                user: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Remove a member (teachers; the owner stays) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description The member's user id */
                    user: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        /** Change a member's role (teachers) */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description The member's user id */
                    user: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        role: components["schemas"]["CourseRole"];
                    };
                };
            };
            responses: {
                /** @description The member */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            member: components["schemas"]["CourseMember"];
                        };
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        trace?: never;
    };
    "/api/courses/{id}/assignments": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
            };
            cookie?: never;
        };
        /** The course's assignments in the caller's view: students see published ones only, without hidden tests, with their own progress (mine) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Assignments */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            assignments: components["schemas"]["Assignment"][];
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Create an assignment (teachers): its starter project is made from a template or as a copy of projectId, with the visible test files written into it; hidden tests stay with the course */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["AssignmentInput"];
                };
            };
            responses: {
                /** @description The assignment */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AssignmentBody"];
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/assignments/{aid}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
                /** @description Assignment id */
                aid: components["parameters"]["assignmentId"];
            };
            cookie?: never;
        };
        /** An assignment in the caller's view */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description Assignment id */
                    aid: components["parameters"]["assignmentId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The assignment */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AssignmentBody"];
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        /** Delete the assignment (teachers) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description Assignment id */
                    aid: components["parameters"]["assignmentId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                403: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        /** Change an assignment (teachers): the fields of POST but template and projectId; changed visible tests are rewritten in the starter */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description Assignment id */
                    aid: components["parameters"]["assignmentId"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["AssignmentInput"];
                };
            };
            responses: {
                /** @description The assignment */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AssignmentBody"];
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
            };
        };
        trace?: never;
    };
    "/api/courses/{id}/assignments/{aid}/start": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
                /** @description Assignment id */
                aid: components["parameters"]["assignmentId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** The student's own copy of the starter (private, theirs): made the first time, the same one after */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description Assignment id */
                    aid: components["parameters"]["assignmentId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The copy */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            project: components["schemas"]["AssignmentProject"];
                        };
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/assignments/{aid}/check": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
                /** @description Assignment id */
                aid: components["parameters"]["assignmentId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Run the visible tests now, in a fresh grading sandbox, on the student's copy (or the teacher's starter); not queued, not a submission */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description Assignment id */
                    aid: components["parameters"]["assignmentId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The result */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            result: components["schemas"]["GradeResult"];
                        };
                    };
                };
                409: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/assignments/{aid}/submit": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
                /** @description Assignment id */
                aid: components["parameters"]["assignmentId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Snapshot the student's copy and queue it for grading */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description Assignment id */
                    aid: components["parameters"]["assignmentId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The submission, queued */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SubmissionBody"];
                    };
                };
                /** @description too_many_submissions; past_due (the late policy rejects it); not_started (no copy yet) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/assignments/{aid}/submissions": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
                /** @description Assignment id */
                aid: components["parameters"]["assignmentId"];
            };
            cookie?: never;
        };
        /** Submissions, newest first: everyone's for teachers and TAs, a student's own for them */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description Assignment id */
                    aid: components["parameters"]["assignmentId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Submissions */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            submissions: components["schemas"]["Submission"][];
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/assignments/{aid}/similarity": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
                /** @description Assignment id */
                aid: components["parameters"]["assignmentId"];
            };
            cookie?: never;
        };
        /** Pairs of students whose latest submissions look alike, flagged at or above threshold (teachers and TAs) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description Assignment id */
                    aid: components["parameters"]["assignmentId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The pairs, most similar first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            pairs: components["schemas"]["SimilarityPair"][];
                            threshold: number;
                        };
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/submissions/{sid}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
                /** @description Submission id */
                sid: components["parameters"]["submissionId"];
            };
            cookie?: never;
        };
        /** A submission (teachers, TAs, or its submitter) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description Submission id */
                    sid: components["parameters"]["submissionId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The submission */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SubmissionBody"];
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/submissions/{sid}/files": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
                /** @description Submission id */
                sid: components["parameters"]["submissionId"];
            };
            cookie?: never;
        };
        /** The submission's snapshot, listed */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description Submission id */
                    sid: components["parameters"]["submissionId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Files */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            files: {
                                path: string;
                                size: number;
                            }[];
                        };
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/submissions/{sid}/files/{path}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
                /** @description Submission id */
                sid: components["parameters"]["submissionId"];
                /** @description Project-relative path; each segment percent-encoded. No '..', absolute paths, NUL or .git */
                path: components["parameters"]["path"];
            };
            cookie?: never;
        };
        /** One file of the snapshot, its bytes */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description Submission id */
                    sid: components["parameters"]["submissionId"];
                    /** @description Project-relative path; each segment percent-encoded. No '..', absolute paths, NUL or .git */
                    path: components["parameters"]["path"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The file */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/octet-stream": string;
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/submissions/{sid}/grade": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
                /** @description Submission id */
                sid: components["parameters"]["submissionId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Grade by hand (teachers and TAs): points per rubric row, and feedback */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description Submission id */
                    sid: components["parameters"]["submissionId"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        rubric: {
                            id: string;
                            points: number;
                            comment?: string;
                        }[];
                        feedback?: string;
                    };
                };
            };
            responses: {
                /** @description The submission */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SubmissionBody"];
                    };
                };
                400: components["responses"]["Error"];
                403: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/submissions/{sid}/regrade": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
                /** @description Submission id */
                sid: components["parameters"]["submissionId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Queue the submission for grading again (teachers) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    /** @description Submission id */
                    sid: components["parameters"]["submissionId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The submission, queued */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SubmissionBody"];
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/progress": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
            };
            cookie?: never;
        };
        /** Students × assignments (teachers and TAs); a student gets the same shape with only themselves */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The grid */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Progress"];
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/progress.csv": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
            };
            cookie?: never;
        };
        /** The grid as CSV (teachers and TAs): username, display name, a column per assignment (score or state), total */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description CSV */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/csv": string;
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/assignment": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Project id */
                id: components["parameters"]["id"];
            };
            cookie?: never;
        };
        /** The assignment a project belongs to, as the student's copy (student view) or the starter (teacher view); the workspace's Assignment pane */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: components["parameters"]["id"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The course and assignment */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            course: {
                                id: string;
                                name: string;
                            };
                            assignment: components["schemas"]["Assignment"];
                        };
                    };
                };
                /** @description not_found: not an assignment's project */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/lti": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
            };
            cookie?: never;
        };
        /** The course's LMS link, last roster sync and scores sent back (teachers and TAs) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The LMS link */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CourseLti"];
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/lti/roster-sync": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Bring the roster in from the LMS (NRPS) now (teachers) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description What changed */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            added: number;
                            updated: number;
                            removed: number;
                        };
                    };
                };
                /** @description not_linked: the course has no LMS link */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description The LMS refused or failed */
                502: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/courses/{id}/lti/passbacks/{submissionId}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Course id */
                id: components["parameters"]["courseId"];
                submissionId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send a submission's score to the LMS again (teachers) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Course id */
                    id: components["parameters"]["courseId"];
                    submissionId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Queued */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": Record<string, never>;
                    };
                };
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/lti/deep-link/{token}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                token: string;
            };
            cookie?: never;
        };
        /** A deep-linking request from the LMS, for the teacher to pick assignments */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    token: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The request */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            course: {
                                id: string;
                                name: string;
                            };
                            assignments: {
                                id: string;
                                title: string;
                            }[];
                            returnUrl: string;
                        };
                    };
                };
                404: components["responses"]["Error"];
                410: components["responses"]["Error"];
            };
        };
        put?: never;
        /** The picked assignments as a signed deep-linking response: the browser posts jwt as the form field JWT to returnUrl */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    token: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        assignmentIds: string[];
                    };
                };
            };
            responses: {
                /** @description The response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            returnUrl: string;
                            jwt: string;
                        };
                    };
                };
                400: components["responses"]["Error"];
                404: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/lti/platforms": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The LMS platforms registered (platform administrators), and the tool's URLs to give an LMS */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Platforms */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            platforms: components["schemas"]["LtiPlatform"][];
                            tool: components["schemas"]["LtiTool"];
                        };
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Register an LMS platform (platform administrators) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["LtiPlatformInput"];
                };
            };
            responses: {
                /** @description The platform */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            platform: components["schemas"]["LtiPlatform"];
                        };
                    };
                };
                400: components["responses"]["Error"];
                /** @description platform_exists: the issuer and client id are registered already */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/lti/platforms/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Remove an LMS platform (platform administrators) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                404: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/lti/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** LTI 1.3 OIDC login initiation (public): iss, login_hint, target_link_uri, lti_message_hint, client_id, lti_deployment_id; redirects to the platform's authorization endpoint */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description To the platform */
                302: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
            };
        };
        put?: never;
        /** The same, as a form post */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description To the platform */
                302: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/lti/launch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** LTI 1.3 launch and deep-linking request (form fields id_token, state): the id_token is checked against the platform's JWKS (iss, aud, nonce, exp, deployment id), then the browser goes to the course, assignment or deep-linking page */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Into the app */
                302: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                400: components["responses"]["Error"];
                401: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/lti/jwks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The tool's public keys (JWKS), which LMS platforms check its signed messages with */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["JWKS"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/.well-known/jwks.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The tool's public keys, as at /lti/jwks */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                200: components["responses"]["JWKS"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/lti/keys/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A new signing key for the tool (platform administrators); the old one stays published a while so messages in flight still verify */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The new key's id */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            kid: string;
                        };
                    };
                };
                403: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @enum {string} */
        CourseRole: "teacher" | "ta" | "student";
        Course: {
            id: string;
            name: string;
            description: string;
            role: components["schemas"]["CourseRole"];
            /** @description Teachers only */
            joinCode?: string;
            ownerId: string;
            studentCount: number;
            assignmentCount: number;
            lti: null | {
                platformId: string;
                contextId: string;
            };
            createdAt: number;
        };
        CourseBody: {
            course: components["schemas"]["Course"];
        };
        CourseMember: {
            userId: string;
            username: string;
            displayName: string;
            role: components["schemas"]["CourseRole"];
            joinedAt: number;
        };
        /**
         * @description How tests run: pytest, python -m unittest, node --test, Jest, go test, or input/output cases
         * @enum {string}
         */
        Runner: "pytest" | "unittest" | "node" | "jest" | "go" | "io";
        TestFile: {
            path: string;
            content: string;
            /** @description Kept by the course only: never in the student's files, sandbox (until grading) or answers */
            hidden: boolean;
        };
        IOCase: {
            name: string;
            stdin: string;
            stdout: string;
            hidden: boolean;
            points: number;
        };
        RubricItem: {
            id: string;
            title: string;
            points: number;
        };
        LatePolicy: {
            /** @enum {string} */
            kind: "none" | "penalty" | "reject";
            percentPerDay: number;
            maxDays: number;
        };
        GradeLimits: {
            cpuSeconds: number;
            wallSeconds: number;
            memoryMB: number;
        };
        /** @description Teachers and TAs see every test; a student sees no hidden test or case (hiddenTests counts them) and gets mine */
        Assignment: {
            id: string;
            courseId: string;
            title: string;
            /** @description Markdown */
            instructions: string;
            starterProjectId: string;
            runner: components["schemas"]["Runner"];
            /** @description io: how to run the program, e.g. python3 main.py */
            command: string;
            tests: components["schemas"]["TestFile"][];
            cases: components["schemas"]["IOCase"][];
            rubric: components["schemas"]["RubricItem"][];
            /** @description The auto-graded part's maximum */
            points: number;
            /** @description points plus the rubric's */
            maxScore: number;
            dueAt: number | null;
            latePolicy: components["schemas"]["LatePolicy"];
            /** @description 0 is unlimited */
            maxSubmissions: number;
            limits: components["schemas"]["GradeLimits"];
            published: boolean;
            createdAt: number;
            updatedAt: number;
            /** @description Student view: how many hidden tests there are */
            hiddenTests: number;
            mine?: components["schemas"]["AssignmentProgress"];
        };
        AssignmentBody: {
            assignment: components["schemas"]["Assignment"];
        };
        AssignmentProgress: {
            projectId: string | null;
            /** @enum {string} */
            state: "not_started" | "in_progress" | "submitted" | "graded";
            submissions: number;
            best: null | components["schemas"]["Submission"];
            latest: null | components["schemas"]["Submission"];
        };
        AssignmentInput: {
            title?: string;
            instructions?: string;
            /** @description Creating only: a project template's name (python, node, blank...) */
            template?: string;
            /** @description Creating only: a project to copy as the starter (readable by the caller) */
            projectId?: string;
            runner?: components["schemas"]["Runner"];
            command?: string;
            tests?: components["schemas"]["TestFile"][];
            cases?: components["schemas"]["IOCase"][];
            rubric?: components["schemas"]["RubricItem"][];
            points?: number;
            dueAt?: number | null;
            latePolicy?: components["schemas"]["LatePolicy"];
            maxSubmissions?: number;
            limits?: components["schemas"]["GradeLimits"];
            published?: boolean;
        };
        AssignmentProject: {
            id: string;
            slug: string;
            owner: string;
            name: string;
        };
        GradeTest: {
            name: string;
            hidden: boolean;
            passed: boolean;
            points: number;
            maxPoints: number;
            /** @description What the student may see; for hidden tests only Passed, Failed or Time limit exceeded */
            message: string;
            /** @description Teachers and TAs only */
            output?: string;
        };
        GradeResult: {
            tests: components["schemas"]["GradeTest"][];
            points: number;
            maxPoints: number;
            /** @description Why grading ended early, in words */
            reason?: string;
        };
        LMSStatus: {
            /** @enum {string} */
            status: "pending" | "sent" | "failed";
            attempts: number;
            error: string;
            sentAt: number;
        };
        Submission: {
            id: string;
            assignmentId: string;
            courseId: string;
            userId: string;
            username: string;
            /** @description 1 for the student's first */
            number: number;
            /** @enum {string} */
            status: "queued" | "grading" | "graded" | "failed";
            submittedAt: number;
            gradedAt: number | null;
            late: boolean;
            daysLate: number;
            penaltyPercent: number;
            autoScore: number | null;
            autoMax: number;
            rubric: {
                id: string;
                points: number;
                comment: string;
            }[];
            feedback: string;
            /** @description (autoScore + rubric) less the late penalty */
            score: number | null;
            maxScore: number;
            result: null | components["schemas"]["GradeResult"];
            reason: string;
            lms: null | components["schemas"]["LMSStatus"];
        };
        SubmissionBody: {
            submission: components["schemas"]["Submission"];
        };
        SimilaritySide: {
            userId: string;
            username: string;
            submissionId: string;
        };
        SimilarityPair: {
            a: components["schemas"]["SimilaritySide"];
            b: components["schemas"]["SimilaritySide"];
            score: number;
        };
        ProgressCell: {
            assignmentId: string;
            /** @enum {string} */
            state: "not_started" | "in_progress" | "submitted" | "graded";
            score: number | null;
            maxScore: number;
            late: boolean;
            submissionId: string | null;
        };
        Progress: {
            assignments: {
                id: string;
                title: string;
                dueAt: number | null;
                maxScore: number;
            }[];
            students: {
                userId: string;
                username: string;
                displayName: string;
                cells: components["schemas"]["ProgressCell"][];
            }[];
        };
        CourseLti: {
            linked: boolean;
            platform: null | {
                id: string;
                name: string;
            };
            contextId: string;
            lastRosterSync: number | null;
            passbacks: {
                submissionId: string;
                username: string;
                /** @enum {string} */
                status: "pending" | "sent" | "failed";
                attempts: number;
                error: string;
                sentAt: number;
            }[];
        };
        LtiPlatformInput: {
            name: string;
            issuer: string;
            clientId: string;
            deploymentIds: string[];
            /** @description The platform's OIDC authorization endpoint */
            authLoginUrl: string;
            /** @description The platform's OAuth 2 token endpoint (AGS, NRPS) */
            authTokenUrl: string;
            jwksUrl: string;
        };
        LtiPlatform: {
            id: string;
            name: string;
            issuer: string;
            clientId: string;
            deploymentIds: string[];
            authLoginUrl: string;
            authTokenUrl: string;
            jwksUrl: string;
            createdAt: number;
        };
        LtiTool: {
            loginUrl: string;
            launchUrl: string;
            jwksUrl: string;
            deepLinkUrl: string;
        };
        Plan: {
            id: string;
            name: string;
            /** Format: int64 */
            monthlyCredits: number;
            /** Format: int64 */
            priceCents: number;
            stripePrice?: string;
            teams?: boolean;
            /** @description Stripe has a price for it */
            subscribable?: boolean;
        };
        /** @description Amounts in micro-credits (1 credit = 1,000,000) */
        BillingAccount: {
            payer: string;
            plan: components["schemas"]["Plan"];
            /** Format: int64 */
            balance: number;
            /** Format: int64 */
            available: number;
            /** Format: int64 */
            held: number;
            period: {
                /** Format: int64 */
                start: number;
                /** Format: int64 */
                end: number;
            };
            /** Format: int64 */
            granted: number;
            /** Format: int64 */
            toppedUp?: number;
            /** Format: int64 */
            used: number;
            /** Format: int64 */
            forecast: number;
            enforced: boolean;
            stripe: boolean;
            outOfCredits: boolean;
            /**
             * Format: int64
             * @description Out of credits: when the account's deployments pause
             */
            suspendAt?: number | null;
            alerts: number[];
        };
        UsageRow: {
            day: string;
            /** @enum {string} */
            category: "compute" | "ai" | "storage" | "deployments" | "egress";
            meter: string;
            attr?: string;
            projectId: string;
            project: string;
            userId: string;
            user: string;
            /** Format: int64 */
            quantity: number;
            /** Format: int64 */
            amount: number;
            waived?: boolean;
        };
        /** @description A transfer of the double-entry ledger, in micro-credits */
        LedgerTransfer: {
            id: string;
            key: string;
            debit: string;
            credit: string;
            /** Format: int64 */
            amount: number;
            kind: string;
            /** @enum {string} */
            status: "posted" | "pending" | "voided";
            pendingId?: string;
            /** Format: int64 */
            expiresAt?: number;
            memo: string;
            /** Format: int64 */
            createdAt: number;
        };
        BillingTransaction: {
            id: string;
            kind: string;
            /**
             * Format: int64
             * @description Signed: + into the account, − out of it
             */
            amount: number;
            /** @enum {string} */
            status: "posted" | "pending" | "voided";
            memo: string;
            /** Format: int64 */
            createdAt: number;
        };
        /** @description The account, logged in; or (user null) that the account's security key is asked next */
        LoginResult: {
            user: components["schemas"]["User"];
        } | {
            user: null;
            /** @enum {string} */
            secondFactor: "webauthn";
            username: string;
        };
        Session: {
            id: string;
            ip: string;
            userAgent: string;
            browser: string;
            device: string;
            createdAt: number;
            lastSeen: number;
            current: boolean;
        };
        /** @description A new token; its secret is in this answer only */
        CreatedToken: {
            id: string;
            name: string;
            createdAt: number;
            expiresAt: number | null;
            /** @description The secret, ecode_...: send as Authorization: Bearer */
            token: string;
        };
        SSHKey: {
            /** @description authorized_keys line: ssh-ed25519 AAAA... user@e-code */
            publicKey: string;
            /** @example SHA256:... */
            fingerprint: string;
            /** @description unix ms */
            createdAt: number;
        };
        /** @description A secret as listed; its value is read one at a time */
        Secret: {
            name: string;
            updatedBy: string;
            updatedAt: number;
        };
        AuditEntry: {
            seq: number;
            at: number;
            actorId: string;
            /** @description The actor's name when the entry was made */
            actor: string;
            /** @description The actor's username now, "deleted user (ID)" when the account is gone, or actor for the platform itself */
            actorName: string;
            /** @description login, login.password, login.failure, account.create, account.update, account.delete, password.change, session.end, session.end_others, token.create, token.revoke, device.approve, device.deny, ssh_key.create, ssh_key.delete, passkey.add, passkey.remove, second_factor.set, identity.link, identity.unlink, project.visibility, project.delete, project.resources, member.add, member.role, member.remove, invite.create, invite.revoke, invite.accept, secret.set, secret.reveal, secret.delete, domain.add, domain.verify, domain.remove, admin.disable_user, admin.enable_user */
            action: string;
            /** @description user:ID, project:ID, project:ID/SECRET, team:ID, team:ID/SECRET */
            target: string;
            /** @description The target as named now: "project Blog", "project Blog / KEY", "team crew", or "deleted project (ID)" */
            targetName: string;
            ip: string;
            userAgent: string;
            /** @description JSON */
            details: string;
            /** @description The master key whose derived key made mac */
            keyId: string;
            /** @description The mac of the entry before */
            prevMac: string;
            /** @description HMAC-SHA256 of the entry and prevMac (hex) */
            mac: string;
        };
        Resources: {
            memoryBytes: number;
            /** @description Cores of CPU time per wall second */
            cpus: number;
            /** @description Processes and threads */
            pids: number;
            /** @description Total size of the project's files */
            diskBytes: number;
            /** @description What the sandbox asks of the GPUs: "" none, any, whole, or mig-PROFILE (mig-1g.10gb) */
            gpu?: string;
        };
        ResourceChoice: {
            memoryBytes?: number | null;
            cpus?: number | null;
            pids?: number | null;
            diskBytes?: number | null;
            /** @description any, whole, mig-PROFILE; "" or null: no GPU. Refused with gpu_unavailable (the server has none), gpu_unsatisfiable (none of that kind), gpu_want_invalid, or 403 gpu_not_in_plan */
            gpu?: string | null;
        };
        /** @description What a project may ask of the server's GPUs, or why nothing */
        GPUOffer: {
            kinds: {
                want: string;
                label: string;
            }[];
            /** @description Why kinds is empty: the server has no GPU (and why), or the plan has none */
            reason?: string;
            /** @description The GPUs are simulated (ECODE_GPU_SIMULATE): sandboxes get their environment, no device */
            simulated: boolean;
        };
        GPUDevice: {
            /** @description nvidia-smi's index */
            index: number;
            /** @description the N of /dev/nvidiaN */
            minor: number;
            uuid: string;
            name: string;
            /** @description PCI address, 00000000:10:00.0 */
            busId?: string;
            memoryMiB: number;
            /** @description In MIG mode: only its slices are leased */
            mig: boolean;
            slices?: {
                uuid: string;
                /** @description The MIG profile, 1g.10gb */
                name: string;
                gpuIndex: number;
                gpuMinor: number;
                index: number;
                memoryMiB: number;
                /** @description GPU instance id; -1 unknown */
                gi: number;
                /** @description Compute instance id; -1 unknown */
                ci: number;
            }[];
        };
        /** @description One leasable unit (a whole GPU or a MIG slice) and who holds it */
        GPUUnit: {
            uuid: string;
            name: string;
            profile?: string;
            gpuIndex: number;
            memoryMiB: number;
            nodes?: string[];
            busId?: string;
            /** @description Why it is never leased (a device node missing) */
            problem?: string;
            /** @description sandbox PROJECT_ID or instance INSTANCE_ID */
            owner?: string;
            /** Format: date-time */
            since?: string;
        };
        GPUWaiting: {
            owner: string;
            want: {
                whole?: boolean;
                minMiB?: number;
                profile?: string;
            };
            /** Format: date-time */
            since: string;
        };
        ResourceSettings: {
            /** @description What the next sandbox gets */
            effective: components["schemas"]["Resources"];
            /** @description The project's own choices; null: the default */
            custom: components["schemas"]["ResourceChoice"];
            /** @description The platform's (ECODE_SANDBOX_MEMORY, _CPUS, _PIDS, ECODE_MAX_PROJECT_BYTES) */
            default: components["schemas"]["Resources"];
            /** @description The administrator's ceilings (ECODE_SANDBOX_MAX_MEMORY, _MAX_CPUS, _MAX_PIDS, _MAX_DISK) */
            max: components["schemas"]["Resources"];
            min: components["schemas"]["Resources"];
            diskUsed: number;
            /** @description Whether the caller may change them */
            canEdit: boolean;
            gpu: components["schemas"]["GPUOffer"];
        };
        SandboxStatus: {
            running: boolean;
            /** @description Whether the limits were read from the sandbox's cgroup; false without one (a server not running as root) */
            measured: boolean;
            resources: null | {
                /** @description The limit; 0: none */
                memoryBytes: number;
                cpus: number;
                pids: number;
                memoryUsed: number;
                pidsUsed: number;
                /**
                 * Format: int64
                 * @description CPU time the sandbox has used, in microseconds
                 */
                cpuUsec?: number;
            };
            /** @description Only when the project asks for a GPU */
            gpu?: {
                /**
                 * @description waiting in line for one, held by the running sandbox, or idle: no sandbox runs
                 * @enum {string}
                 */
                state: "waiting" | "held" | "idle";
                /** @description Waiting for a GPU: 2nd in line for a GPU; 3 of 3 in use */
                message?: string;
                unit?: {
                    name: string;
                    /** @description The MIG profile of a slice */
                    profile?: string;
                    memoryMiB: number;
                    simulated: boolean;
                };
                usage?: {
                    measured: boolean;
                    memoryUsedMiB?: number;
                    memoryTotalMiB?: number;
                    utilizationPercent?: number;
                    /** @description Why there are no readings (a simulated GPU, a MIG slice) */
                    reason?: string;
                };
            };
        };
        SearchMatch: {
            path: string;
            /** @description 1-based */
            line: number;
            /** @description 1-based, in characters */
            column: number;
            text: string;
        };
        /** @description The [deployment] table of ecode.toml */
        DeploymentConfig: {
            /**
             * @description default static
             * @enum {string}
             */
            target?: "static" | "autoscale" | "vm" | "scheduled";
            /** @description default: the run configuration's build, else npm run build when package.json has a build script */
            build?: string;
            /** @description default: the run configuration's run */
            run?: string;
            /** @description the folder a static deploy serves: default dist when there is a build, else . (the project as committed) */
            publicDir?: string;
            /** @description autoscale: default 3; vm: the instances always running, default 1 */
            maxInstances?: number;
            /** @description autoscale: instances kept when idle, default 0 (scale to zero) */
            minInstances?: number;
            /** @description autoscale: requests in flight per instance before another starts, default 80 */
            concurrency?: number;
            /** @description scheduled: five cron fields (may start CRON_TZ=Zone), an @every/@daily descriptor, or a sentence: every weekday at 9:00, every 15 minutes, every day at 17:30, every monday at 8:00, every hour */
            schedule?: string;
            /** @description scheduled: an IANA zone such as Europe/Paris; default UTC */
            timeZone?: string;
            /** @description seconds; for a build, default 15 minutes; for a scheduled run, default 10 minutes, at most 3600 */
            timeout?: number;
            /** @description autoscale and vm: a path that must answer 2xx or 3xx before an instance takes traffic; default: the port opening is enough */
            healthPath?: string;
            /** @description autoscale and vm: each instance's GPU (any, whole, mig-PROFILE); "": none. Instances wait in line for one when all are leased */
            gpu?: string;
            readonly gpuKinds?: components["schemas"]["GPUOffer"];
            /** @description runs before the build: the run configuration's install */
            readonly install?: string;
            /** @description what a static deploy serves, in words (a scheduled one serves nothing) */
            readonly serves?: string;
            /** @description scheduled: the schedule as cron */
            readonly cron?: string;
            /** @description scheduled: the schedule in words */
            readonly sentence?: string;
        };
        Deployment: {
            target: string;
            /** @description http(s)://{slug}--{owner}.{ECODE_DEPLOY_DOMAIN}:{port}/ */
            url: string;
            liveReleaseId: string;
            /** @description the release live before this one: promote it to undo */
            previousReleaseId: string | null;
            config: components["schemas"]["DeploymentConfig"];
        };
        Domain: {
            id: string;
            /** @description lower case; punycode for international names */
            name: string;
            verified: boolean;
            verifiedAt: number | null;
            /** @description what the proof URL answers */
            token: string;
            /** @description http://{name}/.well-known/ecode-domain/{token}, which the platform serves and fetches to verify */
            proofUrl: string;
            /** @description The DNS record to make: a CNAME to the platform's host, or an A (AAAA) record when the platform is reached by its address */
            record: {
                /** @enum {string} */
                type: "CNAME" | "A" | "AAAA";
                name: string;
                value: string;
            };
            /** @description none: not verified, or the server serves no HTTPS; pending: obtained at the first HTTPS visit; issued */
            certificate: {
                /** @enum {string} */
                status: "none" | "pending" | "issued";
                /** @description when the certificate expires (unix ms); it is renewed before */
                notAfter: number | null;
            };
            /** @description https://{name}/ when the server serves HTTPS (plain HTTP then redirects there once the certificate is in hand), else http://{name}/ */
            url: string;
            createdAt: number;
        };
        Release: {
            id: string;
            /** @description 1, 2, ... per project */
            number: number;
            /** @description the checkpoint built (empty until the build starts) */
            commit: string;
            target: string;
            /** @enum {string} */
            status: "queued" | "building" | "ready" | "failed";
            /** @description why it failed */
            error: string | null;
            createdBy: {
                id: string;
                username: string;
            };
            createdAt: number;
            /** @description from the checkpoint to the release in place */
            buildMs: number | null;
            live: boolean;
        };
        Instance: {
            id: string;
            releaseId: string;
            /**
             * @description crashed: it ended by itself and waits in backoff to be started again
             * @enum {string}
             */
            state: "starting" | "ready" | "draining" | "crashed" | "backoff";
            /** @description unix ms */
            startedAt: number;
            /** @description requests it is answering now */
            inFlight: number;
            /** @description times it was started again after ending by itself */
            restarts: number;
            /** @description how it last ended, in words */
            lastExit: string | null;
            /** @description unix ms: when a crashed instance is started again */
            nextStartAt?: number | null;
        };
        Scale: {
            /** @description autoscale or vm; empty when nothing runs */
            target: string;
            min: number;
            max: number;
            /** @description requests in flight one instance aims at */
            concurrency: number;
            /** @description instances the deployment aims at now */
            desired: number;
            /** @description the app keeps ending soon after it starts */
            crashLoop: boolean;
            /** @description why no instance runs, when that is not by design */
            message?: string | null;
        };
        MetricPoint: {
            /** @description unix ms of the step's start */
            t: number;
            requests: number;
            s2xx: number;
            s3xx: number;
            s4xx: number;
            /** @description includes the edge's own 502/503/504 */
            s5xx: number;
            p50Ms: number | null;
            p95Ms: number | null;
            /** @description the most instances running in the step */
            instances: number;
        };
        LogLine: {
            seq: number;
            /** @description unix ms */
            t: number;
            /**
             * @description platform: starts, exits, restarts and scaling
             * @enum {string}
             */
            source: "app" | "edge" | "platform";
            instance: string | null;
            text: string;
        };
        Execution: {
            id: string;
            releaseId: string | null;
            /** @enum {string} */
            source: "schedule" | "manual";
            /**
             * @description skipped: the schedule fired while the previous run was still going
             * @enum {string}
             */
            status: "running" | "ok" | "failed" | "timed_out" | "skipped";
            /** @description null when it did not exit by itself */
            exitCode: number | null;
            /** @description why it failed, timed out or was skipped */
            error: string | null;
            startedAt: number;
            finishedAt: number | null;
            durationMs: number | null;
        };
        /** @description A project's failure webhook; its secret is shown only when made */
        Webhook: {
            url: string;
            updatedBy: string;
            updatedAt: number;
        };
        /** @description One event posted to a webhook, as its last try left it */
        WebhookDelivery: {
            /** @description the message id, sent as webhook-id on every try */
            id: string;
            /** @enum {string} */
            event: "execution.failed" | "release.failed" | "webhook.test";
            url: string;
            /**
             * @description pending: being tried
             * @enum {string}
             */
            status: "pending" | "delivered" | "failed";
            attempts: number;
            /** @description the last answer's HTTP status; null when there was none */
            code: number | null;
            /** @description why the last try failed; empty once delivered */
            error: string;
            createdAt: number;
            finishedAt: number | null;
        };
        Schedule: {
            cron: string;
            timeZone: string;
            sentence: string;
            command: string;
            /** @description seconds */
            timeout: number;
            /** @description unix ms */
            nextRun: number;
        };
        RunConfig: {
            config: {
                run: string;
                install: string;
                build: string;
                env?: {
                    [key: string]: string;
                };
            };
            /** @enum {string} */
            source: "ecode.toml" | "guess" | "none";
        };
        AIStatus: {
            configured: boolean;
            model: string;
            /** @enum {string} */
            provider: "anthropic";
        };
        InviteInfo: {
            project: {
                owner: string;
                slug: string;
                name: string;
            };
            /** @enum {string} */
            role: "editor" | "viewer";
            invitedBy: string;
            expiresAt: number;
        };
        TeamInvite: {
            id: string;
            /** @enum {string} */
            role: "admin" | "member" | "viewer";
            expiresAt: number;
            createdAt: number;
            /** @description /team-invite/TOKEN; only in the answer that made it */
            url?: string;
        };
        TeamInviteInfo: {
            team: {
                name: string;
                displayName: string;
            };
            /** @enum {string} */
            role: "admin" | "member" | "viewer";
            invitedBy: string;
            expiresAt: number;
        };
        /** @description One thing the agent did: words it wrote (kind text), or a tool it called */
        AgentStep: {
            n: number;
            /** @enum {string} */
            kind: "text" | "tool";
            text?: string;
            /** @enum {string} */
            tool?: "list_files" | "read_file" | "write_file" | "edit_file" | "delete_file" | "move_file" | "run_command" | "install_packages" | "start_app" | "check_app" | "finish";
            /** @description The tool's arguments, as the model gave them */
            input?: {
                [key: string]: unknown;
            };
            /** @enum {string} */
            status?: "running" | "ok" | "error";
            output?: string;
            files?: components["schemas"]["FileChange"][];
            /** @description Commit made after the step */
            checkpoint?: string;
            startedAt: number;
            durationMs?: number;
        };
        FileChange: {
            path: string;
            /** @description A renamed file's old path */
            from?: string;
            /** @enum {string} */
            change: "created" | "modified" | "deleted" | "renamed";
            /** @description Lines added */
            added: number;
            /** @description Lines removed */
            removed: number;
            binary?: boolean;
            /** @description Unified diff from its ---/+++ lines; empty when no lines are shown, and then note says why */
            diff: string;
            /** @description Why no lines are shown: a binary or large file (with its sizes), only the mode changed, or the answer's size limit was reached */
            note?: string;
        };
        AgentCheckpoint: {
            hash: string;
            message: string;
            /** @description 0 is before the agent started */
            step: number;
        };
        Error: {
            error: {
                /**
                 * @example invalid_path
                 * @example not_found
                 * @example project_exists
                 */
                code: string;
                message: string;
            };
        };
        Health: {
            /** @enum {string} */
            status: "ok" | "fail";
            failing?: string[];
            checks: {
                [key: string]: {
                    /** @enum {string} */
                    status: "ok" | "fail";
                    error?: string;
                    ms: number;
                    /** @description What the check found: for gpus, {units, inUse, waiting, simulated, reason} */
                    detail?: unknown;
                };
            };
        };
        User: {
            id: string;
            username: string;
            email: string;
            createdAt: number;
            /** @description False for an account made through a provider */
            hasPassword: boolean;
            /** @description Logins need a security key after the password */
            requireKey: boolean;
            /** @description A platform administrator: the first account, or named by ecode admin grant-admin */
            isAdmin: boolean;
        };
        /** @description A device login's codes (RFC 8628 §3.2) */
        DeviceCodes: {
            /** @description The secret the device polls with; shown to nobody */
            deviceCode: string;
            /** @description What the person enters at verificationUri */
            userCode: string;
            /** @description The platform's /device page */
            verificationUri: string;
            /** @description The same page with the user code filled in */
            verificationUriComplete: string;
            /** @description Seconds the codes last */
            expiresIn: number;
            /** @description Seconds to wait between polls */
            interval: number;
        };
        /** @description A device login waiting for its person's approval */
        DeviceRequest: {
            /** @description XXXX-XXXX */
            userCode: string;
            /** @description What the program calls itself */
            clientName: string;
            createdAt: number;
            expiresAt: number;
        };
        Token: {
            id: string;
            name: string;
            createdAt: number;
            lastUsedAt: number | null;
            expiresAt: number | null;
        };
        Template: {
            id: string;
            name: string;
            description: string;
            language: string;
            tags: string[];
        };
        Project: {
            id: string;
            owner: string;
            slug: string;
            name: string;
            /** @description /@owner/slug */
            url: string;
            /** @enum {string} */
            visibility: "private" | "public";
            template: string;
            /** @description Whether the sandbox may reach any public host */
            internet: boolean;
            createdAt: number;
            updatedAt: number;
            /** @description Whether the caller may change it */
            canEdit: boolean;
            /**
             * @description The caller's role; admin: an owner or admin of the team that owns it; empty for a visitor of a public project
             * @enum {string}
             */
            role: "owner" | "admin" | "editor" | "viewer" | "";
            /** @enum {string} */
            ownerKind: "user" | "team";
        };
        PasskeyAvailability: {
            available: boolean;
            /** @description scheme://host where browsers use passkeys (ECODE_PASSKEY_ORIGIN) */
            origin: string;
            /** @description When not available: why, and how an administrator turns them on */
            message?: string;
        };
        /** @description A project as the dashboard lists it */
        ListedProject: components["schemas"]["Project"] & {
            /** @description The template's language (javascript, typescript, python, go, html, text), or for a blank or imported project one read from its top-level files; empty when neither tells */
            language: string;
            /** @description The latest file change or checkpoint, unix ms */
            lastEditedAt: number;
            /** @description A run is starting or running now */
            running: boolean;
        };
        Team: {
            id: string;
            /** @description Shares the namespace of usernames: /@name */
            name: string;
            displayName: string;
            /**
             * @description The caller's
             * @enum {string}
             */
            role: "owner" | "admin" | "member" | "viewer";
            createdAt: number;
            members: number;
            projects: number;
            /** @description /@name */
            url: string;
        };
        TeamMember: {
            userId: string;
            username: string;
            /** @enum {string} */
            role: "owner" | "admin" | "member" | "viewer";
            addedAt: number;
        };
        Allowlist: {
            /** @description Networks in CIDR form; empty: any address */
            allowlist: string[];
            /** @description The caller's address as the server sees it (X-Forwarded-For counts only from ECODE_TRUSTED_PROXIES) */
            yourIp: string;
        };
        Run: {
            id: string;
            /**
             * @description building: waiting on a compile (the shared Go cache, or the run's own go build)
             * @enum {string}
             */
            status: "starting" | "building" | "running" | "exited" | "crashed" | "stopped" | "failed";
            command: string;
            exitCode: number | null;
            startedAt: number;
            endedAt: number | null;
            durationMs: number | null;
            port: number | null;
            /** @description http://{slug}--{owner}.{previewDomain}:{port}/ once the run listens */
            previewUrl: string | null;
            /** @description What went wrong, in plain words */
            error?: string;
        };
        AuthProvider: {
            /** @enum {string} */
            id: "github" | "google" | "gitlab" | "bitbucket" | "discord" | "slack" | "azuread";
            /**
             * @example GitHub
             * @example Microsoft
             */
            name: string;
        };
        LinkedIdentity: {
            provider: string;
            providerName: string;
            /** @description The name the person goes by at the provider */
            login: string;
            /** @description Verified at the provider, or empty */
            email: string;
            createdAt: number;
        };
        Passkey: {
            /** @description The credential id, base64url */
            id: string;
            name: string;
            createdAt: number;
            lastUsedAt: number | null;
            /** @description May be synced between devices */
            backupEligible: boolean;
            /** @description Synced now (a "synced passkey") */
            backedUp: boolean;
            /** @description Kept by the authenticator; logs in without a username or password */
            discoverable: boolean;
            /** @description An answer once came with a counter that had not moved forward; that login was refused */
            cloneWarning: boolean;
        };
        /** @description The browser's credential as PublicKeyCredential.toJSON() gives it (id, rawId, type, response, authenticatorAttachment, clientExtensionResults), sent as it came */
        WebAuthnCredential: {
            id: string;
            rawId: string;
            /** @enum {string} */
            type: "public-key";
            response: Record<string, never>;
            authenticatorAttachment?: string;
            clientExtensionResults?: Record<string, never>;
        };
        Member: {
            userId: string;
            username: string;
            /** @enum {string} */
            role: "owner" | "editor" | "viewer";
            addedAt: number;
        };
        Invite: {
            id: string;
            /** @enum {string} */
            role: "editor" | "viewer";
            expiresAt: number;
            createdAt: number;
            /** @description /invite/TOKEN; only in the answer that made it */
            url?: string;
        };
        AgentRun: {
            id: string;
            projectId: string;
            prompt: string;
            /** @enum {string} */
            status: "running" | "done" | "stopped" | "failed" | "needs_input";
            summary: string;
            features: string[];
            error: {
                /** @description ai_rate_limited, ai_overloaded, ai_unavailable, ai_stream_failed, ai_auth, ai_request_failed, interrupted, agent_failed */
                code: string;
                message: string;
                retryable: boolean;
            } | null;
            /** @description What the agent asks when the loop guard or a budget stopped it (status needs_input) */
            needsInput: string;
            /** @description In GET one run (and the socket's snapshot); lists leave them out */
            steps?: components["schemas"]["AgentStep"][];
            tokensIn: number;
            tokensOut: number;
            /** @description Nothing changed and nothing was seen working */
            noProgress: boolean;
            checkpoints: components["schemas"]["AgentCheckpoint"][];
            model: string;
            createdAt: number;
            finishedAt: number | null;
        };
        Checkpoint: {
            /** @description The commit hash */
            id: string;
            short: string;
            message: string;
            author: string;
            time: number;
            /** @description Taken by the platform itself: once edits settled ("Auto: 3 files changed: ..."), or just before a restore */
            auto: boolean;
        };
        DataSnapshot: {
            id: string;
            /** @enum {string} */
            env: "dev" | "prod";
            /** @description The checkpoint it belongs to; "" for a moment while a restore is under way */
            commit: string;
            /** @description The project had a database then and it is in the snapshot */
            database: boolean;
            kvKeys: number;
            objectCount: number;
            objectBytes: number;
            createdAt: number;
            /** @description Id of the person who asked; "" for the platform */
            createdBy: string;
            /** @enum {string} */
            reason: "manual" | "agent" | "restore" | "deploy";
        };
        SnapshotRestore: {
            checkpoint: components["schemas"]["Checkpoint"];
            snapshot: components["schemas"]["DataSnapshot"];
            /** @description The "Before restoring" checkpoint, which holds the data of the moment before; restoring it undoes this */
            undo: string;
        };
        DataRestore: {
            snapshot: components["schemas"]["DataSnapshot"];
            /** @description The data snapshot of the moment before; restoring it undoes this */
            undo: string;
        };
        CheckpointDiff: {
            checkpoint: components["schemas"]["Checkpoint"];
            /** @description The checkpoint compared with; null for the first checkpoint, compared with no files */
            against: components["schemas"]["Checkpoint"] | null;
            files: components["schemas"]["FileChange"][];
            /** @description More files changed than are listed */
            truncated: boolean;
        };
        FileEntry: {
            path: string;
            size: number;
            dir: boolean;
            /** @description hex; only with ?hash=sha256, and only for regular files */
            sha256?: string;
        };
        /** @description A project's PostgreSQL database for one environment; the database and its role share the name */
        Database: {
            /** @enum {string} */
            env: "dev" | "prod";
            name: string;
            createdAt: number;
            createdBy: string;
            /** @description As last measured (sizeAt) */
            sizeBytes: number;
            sizeAt: number;
            /** @description Over it the database is read-only until it shrinks; 0: no quota */
            quotaBytes: number;
            readOnly: boolean;
            limits: components["schemas"]["DatabaseLimits"];
            host: string;
            port: number;
        };
        DatabaseLimits: {
            connections: number;
            statementTimeoutMs: number;
            idleInTransactionMs: number;
            tempFileBytes: number;
        };
        /** @description Whether projects can have databases on this server */
        DatabaseStatus: {
            available: boolean;
            /** @description Why not, when not available */
            message?: string;
            /** @description On an external PostgreSQL server (ECODE_PROJECT_POSTGRES_URL) */
            external: boolean;
        };
        DatabaseCredentials: {
            /** @enum {string} */
            env: "dev" | "prod";
            /** @description postgresql://role:password@host:port/name */
            url: string;
            user: string;
            password: string;
            database: string;
            host: string;
            port: number;
        };
        QueryColumn: {
            name: string;
            /** @description PostgreSQL's type name (int4, text, timestamptz, jsonb...), or oid:NNN for one it doesn't name */
            type: string;
        };
        /** @description What one statement gave */
        QueryResult: {
            /** @description The command tag, like SELECT 3 or INSERT 0 2 */
            command: string;
            /** @description None for a statement that returns no rows (INSERT without RETURNING, CREATE...) */
            columns: components["schemas"]["QueryColumn"][];
            /** @description Each cell in PostgreSQL's text form, or null */
            rows: (string | null)[][];
            /** @description Rows the statement returned or changed, counting those left out when truncated */
            rowCount: number;
            /** @description More rows than the limit; only the first are in rows */
            truncated: boolean;
        };
        SQLError: {
            error: {
                /**
                 * @example sql_error
                 * @example sql_empty
                 */
                code: string;
                message: string;
                /** @description 1-based character position in the text, when PostgreSQL gives one */
                position?: number;
                /** @example 42601 */
                sqlState?: string;
                detail?: string;
                hint?: string;
            };
        };
        QueryHistoryEntry: {
            id: string;
            /** @description The text as run (the first 10 KiB) */
            statement: string;
            /** @description Empty when it succeeded */
            error: string;
            rowCount: number;
            tookMs: number;
            createdAt: number;
        };
        DatabaseTable: {
            schema: string;
            name: string;
            /** @enum {string} */
            kind: "table" | "view";
            rowEstimate: number;
            /** @description Counted exactly when the estimate is under 100,000, else null */
            rowCount: number | null;
            sizeBytes: number;
            columns: components["schemas"]["TableColumn"][];
            indexes: components["schemas"]["TableIndex"][];
        };
        TableColumn: {
            name: string;
            /** @description As format_type gives it: integer, character varying(80)... */
            type: string;
            nullable: boolean;
            default: string | null;
            primaryKey: boolean;
        };
        TableIndex: {
            name: string;
            definition: string;
        };
        TableRows: {
            columns: components["schemas"]["QueryColumn"][];
            rows: (string | null)[][];
            offset: number;
            limit: number;
            /** @description Rows matching the filters */
            total: number;
        };
        DatabaseBackup: {
            id: string;
            /** @enum {string} */
            env: "dev" | "prod";
            /** @enum {string} */
            kind: "manual" | "daily" | "pre-restore" | "pre-copy" | "upload";
            /** @enum {string} */
            status: "running" | "done" | "failed";
            error: string;
            sizeBytes: number;
            createdBy: string;
            createdAt: number;
            tookMs: number;
        };
        KVEntry: {
            key: string;
            /** @description Bytes of key and value: what it counts against the store's limit */
            size: number;
            /** @description Unix milliseconds */
            updated: number;
        };
        KVValue: components["schemas"]["KVEntry"] & {
            /** @description As stored: clients usually store JSON text */
            value: string;
        };
        KVUsage: {
            keys: number;
            bytes: number;
            maxKeys: number;
            maxBytes: number;
        };
        KVPage: {
            entries: components["schemas"]["KVEntry"][];
            /** @description The after of the next page; empty on the last */
            next: string;
            usage: components["schemas"]["KVUsage"];
        };
        StorageBucket: {
            name: string;
            /** Format: date-time */
            created: string;
            objects: number;
            bytes: number;
        };
        StorageObject: {
            bucket: string;
            key: string;
            size: number;
            contentType: string;
            /** @description Hex */
            md5: string;
            /** @description Base64 of the big-endian CRC32C, as GCS gives it */
            crc32c: string;
            metadata?: {
                [key: string]: string;
            };
            /** Format: date-time */
            updated: string;
        };
        StorageUsage: {
            /** @description Bytes of the environment's live objects */
            bytes: number;
            objects: number;
            /** @description The most bytes the environment may hold */
            quota: number;
        };
        MonitorEvent: {
            /** @enum {string} */
            type: "pageview" | "error" | "vital" | "request" | "event";
            /** @description When, unix ms */
            t: number;
            session: string;
            url: string;
            /** @description pageview: the page before */
            referrer?: string;
            name?: string;
            message?: string;
            stack?: string;
            /** @enum {string} */
            source?: "error" | "unhandledrejection" | "manual";
            value?: number;
            /** @enum {string} */
            rating?: "good" | "needs-improvement" | "poor";
            method?: string;
            target?: string;
            status?: number;
            durationMs?: number;
            props?: {
                [key: string]: string | number | boolean;
            };
        };
        IngestResult: {
            accepted: number;
            rejected: {
                index: number;
                code: string;
                message: string;
            }[];
        };
        MonitorSettings: {
            ingestKey: string;
            /** @description The edge adds the monitoring script to the deployment's HTML pages */
            inject: boolean;
            /** @description Share of sessions recorded, 0 to 1 */
            replaySample: number;
            /** @description Also keep the last minutes of any session that has an error */
            replayOnError: boolean;
            /** @description Replays mask all text (inputs are always masked) */
            maskText: boolean;
            /** @description The script tag for pages served elsewhere */
            snippet: string;
        };
        /** @description Latency percentiles, null without requests */
        Latencies: {
            p50Ms: number | null;
            p95Ms: number | null;
            p99Ms: number | null;
        };
        MonitorOverview: {
            /** @enum {string} */
            range: "1h" | "24h" | "7d" | "30d";
            stepMs: number;
            from: number;
            to: number;
            traffic: (components["schemas"]["Latencies"] & {
                t: number;
                requests: number;
                /** @description 5xx answers */
                errors: number;
            })[];
            /** @description The slowest routes by p95, at most 20 */
            routes: (components["schemas"]["Latencies"] & {
                route: string;
                requests: number;
                errors: number;
            })[];
            browser: {
                t: number;
                pageviews: number;
                errors: number;
                failedRequests: number;
            }[];
            vitals: {
                /** @enum {string} */
                name: "LCP" | "INP" | "CLS" | "FCP" | "TTFB";
                /**
                 * @description Empty for CLS, a score
                 * @enum {string}
                 */
                unit: "ms" | "";
                p75: number | null;
                good: number;
                needsImprovement: number;
                poor: number;
                /** @description [good up to, needs improvement up to] */
                thresholds: [
                    number,
                    number
                ];
                histogram: {
                    le: number;
                    count: number;
                }[];
            }[];
            failedRequests: {
                method: string;
                target: string;
                status: number;
                count: number;
            }[];
            totals: {
                requests: number;
                errors: number;
                pageviews: number;
                browserErrors: number;
                sessions: number;
            };
        };
        ErrorGroup: {
            fingerprint: string;
            name: string;
            message: string;
            count: number;
            sessions: number;
            firstSeen: number;
            lastSeen: number;
            status: components["schemas"]["ErrorStatus"];
            url: string;
            /** @description Occurrences over the range (one group: the last 24 hours) in 24 steps, oldest first */
            spark: number[];
        };
        /** @enum {string} */
        ErrorStatus: "open" | "resolved" | "ignored";
        ReplaySession: {
            id: string;
            startedAt: number;
            lastAt: number;
            durationMs: number;
            chunks: number;
            /** @description Compressed bytes stored */
            bytes: number;
            url: string;
            hasError: boolean;
        };
        /** @enum {string} */
        AlertKind: "threshold" | "burn_rate" | "anomaly";
        /** @enum {string} */
        AlertMetric: "error_rate" | "p95_ms" | "requests" | "browser_errors" | "vital:LCP" | "vital:INP" | "vital:CLS" | "vital:FCP" | "vital:TTFB";
        /** @description Where a rule's alerts are told; to viewers, the webhook's path and the emails' names are hidden */
        AlertChannels: {
            inApp: boolean;
            webhookUrl: string;
            emails: string[];
        };
        /** @description Every setting is kept whatever the kind: op, threshold and windowMinutes are a threshold rule's, slo a burn-rate rule's */
        AlertRule: {
            id: string;
            name: string;
            kind: components["schemas"]["AlertKind"];
            metric: components["schemas"]["AlertMetric"];
            /** @enum {string} */
            op: ">" | "<";
            threshold: number;
            windowMinutes: number;
            slo: number;
            channels: components["schemas"]["AlertChannels"];
            enabled: boolean;
            createdAt: number;
            updatedAt: number;
        };
        Alert: {
            id: string;
            ruleId: string;
            ruleName: string;
            kind: components["schemas"]["AlertKind"];
            metric: components["schemas"]["AlertMetric"];
            /** @enum {string} */
            status: "firing" | "resolved";
            startedAt: number;
            resolvedAt: number | null;
            value: number;
            threshold: number | null;
            message: string;
            silencedUntil: number | null;
            /** @enum {string|null} */
            resolvedBy: "auto" | "user" | null;
        };
        Notification: {
            id: string;
            kind: string;
            title: string;
            body: string;
            link: string;
            createdAt: number;
            read: boolean;
        };
    };
    responses: {
        /** @description A JSON Web Key Set */
        JWKS: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    keys: Record<string, never>[];
                };
            };
        };
        /** @description Where to send the browser */
        RedirectURL: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    url: string;
                };
            };
        };
        /** @description The dashboard's numbers */
        MonitorOverview: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["MonitorOverview"];
            };
        };
        /** @description Monitoring settings */
        MonitorSettings: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["MonitorSettings"];
            };
        };
        /** @description Error groups */
        ErrorGroups: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    groups: components["schemas"]["ErrorGroup"][];
                };
            };
        };
        /** @description The error group */
        ErrorGroup: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    group: components["schemas"]["ErrorGroup"];
                };
            };
        };
        /** @description The group and its latest occurrences */
        ErrorDetail: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    group: components["schemas"]["ErrorGroup"];
                    occurrences: {
                        t: number;
                        url: string;
                        message: string;
                        stack: string;
                        session: string;
                        browser: string;
                    }[];
                };
            };
        };
        /** @description The rule */
        AlertRule: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    rule: components["schemas"]["AlertRule"];
                };
            };
        };
        /** @description The alert */
        Alert: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    alert: components["schemas"]["Alert"];
                };
            };
        };
        /** @description The signing secret */
        WebhookSecret: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    secret: string;
                };
            };
        };
        /** @description An error */
        Error: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description WebAuthn credential creation options (PublicKeyCredentialCreationOptionsJSON under publicKey) */
        CreationOptions: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    /** @description rp, user (id: base64url), challenge, pubKeyCredParams, timeout, excludeCredentials, authenticatorSelection, attestation: none, extensions: {credProps: true} */
                    publicKey?: Record<string, never>;
                };
            };
        };
        /** @description WebAuthn request options (PublicKeyCredentialRequestOptionsJSON under publicKey) */
        RequestOptions: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    /** @description challenge, rpId, timeout, userVerification, allowCredentials (none for a passkey login) */
                    publicKey?: Record<string, never>;
                };
            };
        };
        /** @description A project's sandbox resources */
        ResourceSettings: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    resources: components["schemas"]["ResourceSettings"];
                };
            };
        };
        /** @description How the project's sandbox stands */
        Sandbox: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    sandbox: components["schemas"]["SandboxStatus"];
                };
            };
        };
        /** @description The public half of an SSH key */
        SSHKey: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    sshKey: components["schemas"]["SSHKey"] | null;
                };
            };
        };
        /** @description An account */
        User: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    user: components["schemas"]["User"];
                };
            };
        };
        /** @description A project */
        Project: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    project: components["schemas"]["Project"];
                };
            };
        };
        /** @description A run */
        Run: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    run: components["schemas"]["Run"];
                };
            };
        };
        /** @description A project database */
        Database: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    database: components["schemas"]["Database"];
                };
            };
        };
        /** @description A backup of a project database */
        DatabaseBackup: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    backup: components["schemas"]["DatabaseBackup"];
                };
            };
        };
        /** @description A resumable upload and the bytes the server holds of it */
        StorageUpload: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    upload: {
                        id: string;
                        received: number;
                    };
                };
            };
        };
    };
    parameters: {
        /** @description Login provider */
        provider: "github" | "google" | "gitlab" | "bitbucket" | "discord" | "slack" | "azuread";
        /** @description Project id */
        id: string;
        /** @description The team's name */
        team: string;
        /** @description Project-relative path; each segment percent-encoded. No '..', absolute paths, NUL or .git */
        path: string;
        /** @description The span of time up to now */
        range: "1h" | "24h" | "7d" | "30d";
        errorStatus: "open" | "resolved" | "ignored" | "all";
        /** @description A team's name: its account (admins and owners); without it, the caller's own */
        billingTeam: string;
        /** @description An error group's fingerprint */
        fingerprint: string;
        /** @description Course id */
        courseId: string;
        /** @description Assignment id */
        assignmentId: string;
        /** @description Submission id */
        submissionId: string;
    };
    requestBodies: {
        ErrorStatus: {
            content: {
                "application/json": {
                    status: components["schemas"]["ErrorStatus"];
                };
            };
        };
        AlertRule: {
            content: {
                "application/json": {
                    name?: string;
                    kind?: components["schemas"]["AlertKind"];
                    metric?: components["schemas"]["AlertMetric"];
                    /** @enum {string} */
                    op?: ">" | "<";
                    threshold?: number;
                    windowMinutes?: number;
                    slo?: number;
                    channels?: {
                        inApp?: boolean;
                        webhookUrl?: string;
                        emails?: string[];
                    };
                    enabled?: boolean;
                };
            };
        };
    };
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
